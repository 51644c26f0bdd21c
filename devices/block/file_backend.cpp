// FileBackend: raw images through pread/pwrite/fdatasync/fallocate.
#include "block/file_backend.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "block/image_lock.hpp"

namespace minivmm::block {

Result<std::unique_ptr<FileBackend>> FileBackend::open(const std::string& path, Access access) {
    bool ro = access == Access::ReadOnly;
    int fd = ::open(path.c_str(), (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == EISDIR) return Error(ErrorCode::Input, fmt::format("Disk image {} is a directory", path));
        return Error(ErrorCode::Input, fmt::format("Cannot open disk image {}", path), err);
    }
    UniqueFd file(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return sys_error(ErrorCode::Input, fmt::format("Cannot stat disk image {}", path));
    if (S_ISDIR(st.st_mode))
        return Error(ErrorCode::Input, fmt::format("Disk image {} is a directory", path));
    // A host block device (a partition, a loop or device-mapper device) serves as well as a
    // file; its size is where its end is (st_size is 0 for it).
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (S_ISBLK(st.st_mode)) {
        off_t end = ::lseek(fd, 0, SEEK_END);
        if (end < 0) return sys_error(ErrorCode::Input, fmt::format("Cannot size block device {}", path));
        size = static_cast<uint64_t>(end);
    } else if (!S_ISREG(st.st_mode)) {
        return Error(ErrorCode::Input,
                     fmt::format("Disk image {} is neither a regular file nor a block device", path));
    }
    if (size == 0) return Error(ErrorCode::Input, fmt::format("Disk image {} is empty", path));
    if (size % SECTOR_SIZE != 0)
        return Error(ErrorCode::Input,
                     fmt::format("Disk image {} is {} bytes, not a multiple of 512", path, size));
    MINIVMM_TRY(lock_image(fd, path, ro ? LockMode::Shared : LockMode::Exclusive));
    return std::unique_ptr<FileBackend>(new FileBackend(std::move(file), size, ro));
}

Result<void> FileBackend::flush() {
    if (::fdatasync(fd_.get()) != 0) return sys_error(ErrorCode::Host, "fdatasync");
    return {};
}

Result<void> FileBackend::discard(uint64_t offset, uint64_t len) {
    if (!punch_supported_) return {};   // discard is a hint: keeping the data is allowed
    if (::fallocate(fd_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    static_cast<off_t>(offset), static_cast<off_t>(len)) == 0)
        return {};
    if (errno == EOPNOTSUPP || errno == ENOSYS) {
        punch_supported_ = false;
        return {};
    }
    return sys_error(ErrorCode::Host, "fallocate(PUNCH_HOLE)");
}

Result<void> FileBackend::write_zeroes(uint64_t offset, uint64_t len, bool may_unmap) {
    // A punched hole reads as zeroes; ZERO_RANGE keeps the blocks allocated.
    int mode = may_unmap && punch_supported_ ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
                                             : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
    if (::fallocate(fd_.get(), mode, static_cast<off_t>(offset), static_cast<off_t>(len)) == 0)
        return {};
    if (errno != EOPNOTSUPP && errno != ENOSYS)
        return sys_error(ErrorCode::Host, "fallocate(zero range)");
    static const std::vector<uint8_t> zeroes(1 << 20);
    while (len > 0) {
        uint64_t n = std::min<uint64_t>(len, zeroes.size());
        MINIVMM_TRY(pwrite_full(fd_.get(), std::span(zeroes.data(), n), offset));
        offset += n;
        len -= n;
    }
    return {};
}

} // namespace minivmm::block
