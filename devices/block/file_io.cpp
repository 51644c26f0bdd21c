// pread/pwrite loops for the file backend.
#include "block/file_io.hpp"

#include <cerrno>
#include <unistd.h>

namespace minivmm::block {

namespace {

// Runs `call(done)` until `total` bytes moved; `call` returns the syscall's result.
template <typename Call>
Result<void> transfer(uint64_t total, uint64_t offset, const char* what, Call call) {
    uint64_t done = 0;
    unsigned eintr = 0;
    while (done < total) {
        if (offset + done > static_cast<uint64_t>(INT64_MAX))
            return Error(ErrorCode::Invalid, fmt::format("{} offset too large", what));
        ssize_t n = call(done);
        if (n < 0) {
            if (errno == EINTR && ++eintr < MAX_EINTR_RETRIES) continue;
            return sys_error(ErrorCode::Host, fmt::format("{} at {}", what, offset + done));
        }
        if (n == 0)   // end of file (the image shrank) or a device that takes nothing
            return Error(ErrorCode::Host, fmt::format("{} at {}: no progress", what, offset + done), EIO);
        eintr = 0;
        done += static_cast<uint64_t>(n) > total - done ? total - done : static_cast<uint64_t>(n);
    }
    return {};
}

} // namespace

Result<void> pread_full(int fd, std::span<uint8_t> out, uint64_t offset, PreadFn fn) {
    return transfer(out.size(), offset, "pread", [&](uint64_t done) {
        return fn(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    });
}

Result<void> pwrite_full(int fd, std::span<const uint8_t> in, uint64_t offset, PwriteFn fn) {
    return transfer(in.size(), offset, "pwrite", [&](uint64_t done) {
        return fn(fd, in.data() + done, in.size() - done, static_cast<off_t>(offset + done));
    });
}

} // namespace minivmm::block
