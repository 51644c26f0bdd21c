// Error formatting.
#include "base/result.hpp"

#include <cerrno>
#include <cstring>

namespace minivmm {

std::string Error::message() const {
    if (errno_ == 0) return context_;
    return fmt::format("{}: {}", context_, std::strerror(errno_));
}

Error Error::with_context(const std::string& outer) const {
    return Error(code_, fmt::format("{}: {}", outer, context_), errno_);
}

Error sys_error(ErrorCode code, std::string context) {
    return Error(code, std::move(context), errno);
}

} // namespace minivmm
