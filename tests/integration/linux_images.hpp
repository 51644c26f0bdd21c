// Where the guest-images/ outputs are, and whether this host can boot Linux fully (VT-x or
// AMD-V; inside tools/kvm-in-qemu the emulated CPU has AMD SVM).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace minivmm::test {

inline std::filesystem::path images_dir() {
    if (const char* dir = std::getenv("MINIVMM_IMAGES")) return dir;
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home ? home : "/root") / ".cache/minivmm/images";
}

// The whole content of a (small) file; empty if it cannot be read.
inline std::string file_bytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline bool host_has_hardware_virtualisation() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line))
        if (line.rfind("flags", 0) == 0)
            return line.find(" vmx") != std::string::npos || line.find(" svm") != std::string::npos;
    return false;
}

} // namespace minivmm::test
