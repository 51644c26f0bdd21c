// The fixed x86-64 machine layout: every guest-physical address and port minivmm uses.
#pragma once

#include <cstdint>

namespace minivmm::layout {

// RAM starts at 0. Below 4 GiB it stops at the 32-bit MMIO hole; the rest lives above 4 GiB.
constexpr uint64_t RAM_START = 0;
constexpr uint64_t MMIO_HOLE_START = 0xc000'0000;   // 3 GiB: start of the 32-bit device hole
constexpr uint64_t MMIO_HOLE_END = 0x1'0000'0000;   // 4 GiB: high RAM resumes here
constexpr uint64_t MIN_RAM_SIZE = 2ULL << 20;       // 2 MiB: room for a demo and its tables
constexpr uint64_t MAX_RAM_SIZE = 64ULL << 30;      // 64 GiB: documented --mem limit

// Demo (bare-metal) guests are flat binaries loaded at 1 MiB and entered there in 32-bit
// protected mode with paging off, like the PVH entry.
constexpr uint64_t DEMO_LOAD_ADDR = 0x10'0000;
constexpr uint64_t DEMO_MAX_SIZE = 0x10'0000;       // 1 MiB
constexpr uint64_t DEMO_DEFAULT_RAM = 16ULL << 20;  // 16 MiB unless --mem says otherwise

// Port I/O.
constexpr uint16_t COM1_PORT = 0x3f8;               // 16550 UART, 8 registers
constexpr uint16_t COM1_PORT_COUNT = 8;
constexpr uint16_t EXIT_PORT = 0x510;               // 1-byte write: the VM ends with that status

// MMIO windows inside the 32-bit hole.
constexpr uint64_t SCRATCH_MMIO_BASE = 0xd000'0000; // teaching/test scratch device, 4 KiB
constexpr uint64_t SCRATCH_MMIO_SIZE = 0x1000;

} // namespace minivmm::layout
