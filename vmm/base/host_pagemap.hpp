// HostPagemap: host-physical addresses of minivmm's own pages, from /proc/self/pagemap (Linux's
// pagemap interface): one 64-bit entry per virtual page, bit 63 "present", bit 62 "swapped",
// bits 54:0 the page frame number, which reads as 0 without CAP_SYS_ADMIN.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "base/unique_fd.hpp"

namespace minivmm {

class HostPagemap {
public:
    static constexpr uint64_t PRESENT = 1ULL << 63;
    static constexpr uint64_t SWAPPED = 1ULL << 62;

    // Opens /proc/self/pagemap now (before the seccomp filters, which forbid open). Never
    // fails: a pagemap that cannot be opened is remembered with the reason.
    static HostPagemap open();
    // For tests: a pagemap read from `fd` (a file of entries), or none with `reason`.
    HostPagemap(UniqueFd fd, std::string reason) : fd_(std::move(fd)), reason_(std::move(reason)) {}

    // The host-physical address of host virtual address `hva`, or why it is not known (not
    // opened, the page not in RAM, or the frame number hidden from an unprivileged reader).
    // One pread, allowed on vCPU threads.
    std::variant<uint64_t, std::string> physical_address(uint64_t hva) const;
    // The entries of out.size() pages from `hva` (page-aligned) on, in one pread; false when
    // the map is not open or the read comes up short.
    bool entries(uint64_t hva, std::span<uint64_t> out) const;

private:
    UniqueFd fd_;
    std::string reason_;   // why fd_ is not open
};

} // namespace minivmm
