#include "base/mapping.hpp"

#include <sys/mman.h>

namespace minivmm {

Mapping::~Mapping() {
    if (addr_ != nullptr) ::munmap(addr_, size_);
}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
    if (this != &other) {
        if (addr_ != nullptr) ::munmap(addr_, size_);
        addr_ = std::exchange(other.addr_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

Result<Mapping> Mapping::anonymous(size_t size) {
    if (size == 0) return Error(ErrorCode::Invalid, "Cannot map 0 bytes");
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return sys_error(ErrorCode::Host, fmt::format("mmap {} bytes", size));
    Mapping m(p, size);
    // Guest RAM never goes into a core dump (it is the guest's, and can be gigabytes).
    if (::madvise(p, size, MADV_DONTDUMP) != 0)
        return sys_error(ErrorCode::Host, "madvise(MADV_DONTDUMP)");
    return m;
}

Result<Mapping> Mapping::shared(int fd, size_t size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return sys_error(ErrorCode::Host, fmt::format("mmap fd {}", fd));
    return Mapping(p, size);
}

Result<Mapping> Mapping::private_file(int fd, size_t size, uint64_t offset) {
    if (size == 0) return Error(ErrorCode::Invalid, "Cannot map 0 bytes");
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd,
                     static_cast<off_t>(offset));
    if (p == MAP_FAILED) return sys_error(ErrorCode::Host, fmt::format("mmap {} bytes of fd {}", size, fd));
    Mapping m(p, size);
    if (::madvise(p, size, MADV_DONTDUMP) != 0)
        return sys_error(ErrorCode::Host, "madvise(MADV_DONTDUMP)");
    return m;
}

} // namespace minivmm
