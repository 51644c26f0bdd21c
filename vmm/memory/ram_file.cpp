#include "memory/ram_file.hpp"

#include <algorithm>
#include <cstring>
#include <unistd.h>
#include <vector>

#include "base/file.hpp"

namespace minivmm {

namespace {
constexpr uint64_t PAGE = 4096;
constexpr uint64_t PM_BATCH = 8192;   // entries read at once: 32 MiB of RAM, 64 KiB of map

bool zero_page(const uint8_t* p) {
    static const uint8_t ZERO[PAGE] = {};
    return std::memcmp(p, ZERO, PAGE) == 0;
}

// The page map of one region, read in batches as the scan moves up; `untouched(page)` is true
// only for a page the map says is neither present nor swapped out.
class RegionMap {
public:
    RegionMap(const HostPagemap* map, const MemoryRegion& r) : map_(map), region_(r) {}
    bool untouched(uint64_t offset) {
        if (map_ == nullptr) return false;
        const uint64_t page = offset / PAGE;
        if (page < first_ || page >= first_ + entries_.size()) {
            if (!fill(page)) return false;
        }
        return (entries_[page - first_] & (HostPagemap::PRESENT | HostPagemap::SWAPPED)) == 0;
    }

private:
    // A failed read turns the map off: every page is then read, as without one.
    bool fill(uint64_t page) {
        const uint64_t count = std::min(PM_BATCH, region_.size / PAGE - page);
        entries_.resize(count);
        if (!map_->entries(reinterpret_cast<uintptr_t>(region_.host) + page * PAGE, entries_)) {
            map_ = nullptr;
            entries_.clear();
            return false;
        }
        first_ = page;
        return true;
    }

    const HostPagemap* map_;
    const MemoryRegion& region_;
    std::vector<uint64_t> entries_;
    uint64_t first_ = 0;
};

} // namespace

Result<RamFileStats> write_ram_file(const GuestMemory& memory, int fd, const HostPagemap* pagemap,
                                    const std::string& path) {
    RamFileStats stats;
    uint64_t offset = 0;
    for (const MemoryRegion& r : memory.regions()) {
        RegionMap map(memory.file_backed() ? nullptr : pagemap, r);
        stats.pages += r.size / PAGE;
        // Skips a page that is zero: untouched (not read), or read and found zero.
        auto zero = [&](uint64_t page) {
            if (map.untouched(page)) {
                ++stats.skipped;
                return true;
            }
            return zero_page(r.host + page);
        };
        // Runs of non-zero pages, each in one pwrite.
        for (uint64_t page = 0; page < r.size;) {
            if (zero(page)) {
                page += PAGE;
                continue;
            }
            uint64_t end = page + PAGE;
            while (end < r.size && !zero(end)) end += PAGE;
            MINIVMM_TRY(write_all_at(fd, r.host + page, end - page, offset + page, path));
            stats.written += (end - page) / PAGE;
            page = end + PAGE;   // `end` was zero (or the region's end)
        }
        offset += r.size;
    }
    if (::ftruncate(fd, static_cast<off_t>(offset)) != 0)
        return sys_error(ErrorCode::Host, fmt::format("Failed to size {}", path));
    return stats;
}

} // namespace minivmm
