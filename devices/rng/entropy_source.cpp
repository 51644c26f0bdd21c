// GetrandomSource (see entropy_source.hpp).
#include "rng/entropy_source.hpp"

#include <cerrno>
#include <sys/random.h>

namespace minivmm::rng {

Result<void> GetrandomSource::fill(std::span<uint8_t> out) {
    size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return sys_error(ErrorCode::Host, "getrandom");
        done += static_cast<size_t>(n);
    }
    return {};
}

} // namespace minivmm::rng
