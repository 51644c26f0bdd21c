// A VMM process's memory, read from /proc/PID/smaps: totals, the guest RAM mapping's share
// (the largest mapping: guest RAM is one anonymous or memfd mapping of the guest's size), and
// the rest grouped by what maps it (library, [heap], [stack], anonymous, ...). Shared by the
// footprint benchmark.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace bench {

// Kilobytes, as smaps gives them.
struct MemFigures {
    uint64_t size = 0, rss = 0, pss = 0, private_kb = 0, anonymous = 0;
    void add(const MemFigures& o) {
        size += o.size, rss += o.rss, pss += o.pss, private_kb += o.private_kb;
        anonymous += o.anonymous;
    }
};

struct Smaps {
    MemFigures total, guest;                  // guest: the largest mapping
    std::map<std::string, MemFigures> by_name; // everything but the guest RAM mapping
    MemFigures own() const {                   // the VMM's own: total minus guest RAM
        return {total.size - guest.size, total.rss - guest.rss, total.pss - guest.pss,
                total.private_kb - guest.private_kb, total.anonymous - guest.anonymous};
    }
};

// What a mapping is, for grouping: the file's base name, or the kernel's [name], or "anonymous".
inline std::string mapping_name(const std::string& header) {
    std::istringstream in(header);
    std::string range, perms, offset, dev, inode, path;
    in >> range >> perms >> offset >> dev >> inode;
    std::getline(in >> std::ws, path);
    if (path.empty()) return "anonymous";
    if (path[0] == '[') return path;
    if (path.rfind("anon_inode:", 0) == 0) return path;
    if (path.rfind("/memfd:", 0) == 0) return "memfd " + path.substr(7);
    return path.substr(path.rfind('/') + 1);
}

inline Smaps read_smaps(int pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/smaps");
    std::vector<std::pair<std::string, MemFigures>> maps;
    std::string line;
    while (std::getline(f, line)) {
        auto colon = line.find(':');
        bool field = colon != std::string::npos && line.find(' ') > colon;
        if (!field) {
            maps.push_back({mapping_name(line), {}});
            continue;
        }
        if (maps.empty()) continue;
        std::string key = line.substr(0, colon);
        uint64_t kb = std::strtoull(line.c_str() + colon + 1, nullptr, 10);   // VmFlags: 0
        MemFigures& m = maps.back().second;
        if (key == "Size") m.size = kb;
        else if (key == "Rss") m.rss = kb;
        else if (key == "Pss") m.pss = kb;
        else if (key == "Private_Clean" || key == "Private_Dirty") m.private_kb += kb;
        else if (key == "Anonymous") m.anonymous = kb;
    }
    Smaps s;
    size_t guest = 0;
    for (size_t i = 0; i < maps.size(); ++i) {
        s.total.add(maps[i].second);
        if (maps[i].second.size > maps[guest].second.size) guest = i;
    }
    for (size_t i = 0; i < maps.size(); ++i)
        if (i == guest) s.guest = maps[i].second;
        else s.by_name[maps[i].first].add(maps[i].second);
    return s;
}

} // namespace bench
