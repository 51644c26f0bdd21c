// The command runner's guest init (init.c), built static and embedded in minivmm.
#pragma once

#include <cstdint>
#include <span>

namespace minivmm::runner {

// The init's ELF executable, as built.
std::span<const uint8_t> runner_init_binary();

} // namespace minivmm::runner
