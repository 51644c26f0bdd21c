// The BIOS e820 memory map handed to Linux in boot_params (x86 boot protocol, zero page at
// 0x2d0), built for minivmm's fixed layout (vmm/memory/layout.hpp).
#pragma once

#include <asm/bootparam.h>
#include <asm/e820.h>

#include <cstdint>
#include <vector>

#include "base/result.hpp"

namespace minivmm::firmware {

// The uapi names are macros; these are typed copies for our code (same values).
constexpr uint32_t E820_TYPE_RAM = E820_RAM;           // 1: usable RAM
constexpr uint32_t E820_TYPE_RESERVED = E820_RESERVED; // 2: never touch
constexpr uint32_t E820_TYPE_ACPI = E820_ACPI;         // 3: ACPI reclaimable

using E820Entry = boot_e820_entry;

// The e820 map for `ram_size` bytes of guest RAM laid out like GuestMemory::create_x86:
//   [0, EBDA_START)                      RAM
//   [EBDA_START, 1 MiB)                  reserved (EBDA, VGA hole, BIOS area: ACPI and MP tables)
//   [1 MiB, min(ram_size, 3 GiB))        RAM
//   [4 GiB, 4 GiB + the rest)            RAM, only when ram_size exceeds the 3 GiB hole
// Entries are sorted by address and never overlap. Returns ErrorCode::Invalid when ram_size is
// outside [MIN_RAM_SIZE, MAX_RAM_SIZE] (the same bounds GuestMemory::create_x86 enforces).
Result<std::vector<E820Entry>> build_e820_map(uint64_t ram_size);

} // namespace minivmm::firmware
