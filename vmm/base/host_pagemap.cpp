#include "base/host_pagemap.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

namespace minivmm {

namespace {
constexpr uint64_t PAGE = 4096;
constexpr uint64_t PFN_MASK = (1ULL << 55) - 1;
} // namespace

HostPagemap HostPagemap::open() {
    int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return HostPagemap(UniqueFd(), fmt::format("/proc/self/pagemap cannot be opened: {}",
                                                   std::strerror(errno)));
    return HostPagemap(UniqueFd(fd), "");
}

std::variant<uint64_t, std::string> HostPagemap::physical_address(uint64_t hva) const {
    if (!fd_.valid()) return reason_;
    uint64_t entry = 0;
    const off_t offset = static_cast<off_t>(hva / PAGE * sizeof entry);
    ssize_t n;
    do {
        n = ::pread(fd_.get(), &entry, sizeof entry, offset);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof entry))
        return fmt::format("/proc/self/pagemap read failed: {}",
                           n < 0 ? std::strerror(errno) : "short read");
    if (entry & HostPagemap::SWAPPED) return std::string("the page is swapped out");
    if ((entry & HostPagemap::PRESENT) == 0) return std::string("the page is not in host RAM (never touched)");
    const uint64_t pfn = entry & PFN_MASK;
    if (pfn == 0)
        return fmt::format("the kernel hides page frame numbers from a reader without "
                           "CAP_SYS_ADMIN (uid {}): run as root to see the HPA", ::getuid());
    return pfn * PAGE + hva % PAGE;
}

bool HostPagemap::entries(uint64_t hva, std::span<uint64_t> out) const {
    if (!fd_.valid()) return false;
    const size_t bytes = out.size_bytes();
    ssize_t n;
    do {
        n = ::pread(fd_.get(), out.data(), bytes, static_cast<off_t>(hva / PAGE * sizeof(uint64_t)));
    } while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(bytes);
}

} // namespace minivmm
