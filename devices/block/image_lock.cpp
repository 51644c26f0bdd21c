// OFD locks on disk images (fcntl(2), "Open file description locks").
#include "block/image_lock.hpp"

#include <cerrno>
#include <fcntl.h>

namespace minivmm::block {

Result<void> lock_image(int fd, const std::string& path, LockMode mode) {
    struct flock lock {};
    lock.l_type = mode == LockMode::Exclusive ? F_WRLCK : F_RDLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = 0;
    lock.l_len = 0;   // the whole file, however it grows
    if (::fcntl(fd, F_OFD_SETLK, &lock) == 0) return {};
    int err = errno;
    if (err == EAGAIN || err == EACCES)
        return Error(ErrorCode::Input,
                     fmt::format("Disk image {} is locked by another process (another minivmm or "
                                 "QEMU using it{})",
                                 path, mode == LockMode::Exclusive ? "" : " writable"));
    return Error(ErrorCode::Input, fmt::format("Cannot lock disk image {}", path), err);
}

} // namespace minivmm::block
