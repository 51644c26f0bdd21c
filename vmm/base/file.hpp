// Host files the user names (kernels, initrds): opened once with errors that name the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace minivmm {

struct OpenedFile {
    UniqueFd fd;
    uint64_t size = 0;
};

// Opens `path` read-only and checks that it is a non-empty regular file. `what` names the file
// in the errors ("kernel": "Cannot open kernel X", "Kernel X is empty"); all are ErrorCode::Input.
Result<OpenedFile> open_regular_file(const std::string& path, std::string_view what);

// The whole file: open_regular_file's checks, plus an error for a file over max_size.
Result<std::vector<uint8_t>> read_file(const std::string& path, std::string_view what,
                                       uint64_t max_size = 1ULL << 30);

// Writes all `size` bytes at `offset` (pwrite, EINTR retried, short writes continued); the
// error names `path`.
Result<void> write_all_at(int fd, const uint8_t* data, size_t size, uint64_t offset,
                          const std::string& path);

} // namespace minivmm
