// The guest-physical memory map, as --show-memory prints it: KVM's memory slots (what backs
// guest RAM in minivmm's process) and the machine's layout around them (boot structures, the
// guest image, the MMIO hole and the device windows in it).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "memory/memory_slot.hpp"

namespace minivmm {

// One region of the layout, [start, end).
struct MemoryMapRegion {
    uint64_t start = 0;
    uint64_t end = 0;
    std::string what;
};

// The --show-memory table (on stderr at start, in the style of --stats): the slots, then the
// regions sorted by address, each with its size and whether RAM (a slot) backs it.
std::string format_memory_map(std::span<const MemorySlot> slots,
                              std::vector<MemoryMapRegion> regions);
// The same as one line per slot and region, for the log (--log-level info).
std::vector<std::string> memory_map_lines(std::span<const MemorySlot> slots,
                                          std::vector<MemoryMapRegion> regions);
// "16 MiB", "4 KiB", "1.5 GiB", "100 bytes".
std::string format_size(uint64_t bytes);

} // namespace minivmm
