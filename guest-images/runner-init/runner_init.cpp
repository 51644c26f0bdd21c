#include "runner_init.hpp"

extern "C" {
extern const uint8_t runner_init_start[], runner_init_end[];
}

namespace minivmm::runner {

std::span<const uint8_t> runner_init_binary() {
    return {runner_init_start, static_cast<size_t>(runner_init_end - runner_init_start)};
}

} // namespace minivmm::runner
