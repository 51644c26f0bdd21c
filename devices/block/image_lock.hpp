// Disk image locking with open-file-description locks (fcntl F_OFD_SETLK): exclusive for a
// writable disk, shared for a read-only one, so two writers (or a writer and a reader) never
// use one image. The lock belongs to the open file description: it lasts while the fd is open
// and goes away when the process exits, however it exits (SIGKILL included). QEMU takes the
// same kind of lock, so it and minivmm refuse each other.
#pragma once

#include <string>

#include "base/result.hpp"

namespace minivmm::block {

enum class LockMode { Shared, Exclusive };

// Takes the lock on the whole of `fd` without waiting. Refusal: ErrorCode::Input, one line
// naming `path` ("Disk image X is locked by another process ..."). OFD locks do not record
// the holder's pid (F_OFD_GETLK reports -1), so the message cannot name it.
Result<void> lock_image(int fd, const std::string& path, LockMode mode);

} // namespace minivmm::block
