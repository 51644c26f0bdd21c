// Whole-buffer pread/pwrite: short transfers continued, EINTR retried (a bounded number of
// times in a row), end of file and errors returned as errors. The system call is a parameter
// so tests can inject EINTR, short transfers and errors.
#pragma once

#include <cstdint>
#include <span>
#include <sys/types.h>

#include "base/result.hpp"

namespace minivmm::block {

using PreadFn = ssize_t (*)(int, void*, size_t, off_t);
using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);

constexpr unsigned MAX_EINTR_RETRIES = 1000;   // in a row, without progress

Result<void> pread_full(int fd, std::span<uint8_t> out, uint64_t offset, PreadFn fn = ::pread);
Result<void> pwrite_full(int fd, std::span<const uint8_t> in, uint64_t offset,
                         PwriteFn fn = ::pwrite);

} // namespace minivmm::block
