// read_file: a whole host file into memory (kernels, initrds), with errors that name the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace minivmm {

// ErrorCode::Input for a missing, unreadable, non-regular or empty file, or one over max_size.
Result<std::vector<uint8_t>> read_file(const std::string& path, uint64_t max_size = 1ULL << 30);

} // namespace minivmm
