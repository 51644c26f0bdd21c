// ELF kernel parser and loader for the PVH boot ABI (Xen's docs/misc/pvh.pandoc): an ELF64
// x86-64 (or ELF32 i386) image whose PT_NOTE carries XEN_ELFNOTE_PHYS32_ENTRY, the 32-bit
// protected-mode entry point. Segments are loaded at their physical addresses (p_paddr).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "boot/loaded_kernel.hpp"
#include "memory/guest_memory.hpp"

namespace minivmm {

struct ElfSegment {       // one PT_LOAD, widened to 64 bits for both ELF classes
    uint64_t offset = 0;  // file offset; [offset, offset + filesz) lies inside the file
    uint64_t filesz = 0;
    uint64_t paddr = 0;   // guest-physical load address; paddr + memsz does not wrap
    uint64_t memsz = 0;   // >= filesz; the rest is bss, zeroed by the loader
};

struct ElfKernel {
    bool is_64bit = false;
    uint64_t e_entry = 0;       // the ELF entry (not used for PVH booting)
    uint32_t pvh_entry = 0;     // XEN_ELFNOTE_PHYS32_ENTRY: where the vCPU starts
    std::vector<ElfSegment> segments;
};

// Validates the ELF header, program headers, PT_LOAD bounds and notes, and finds the PVH entry.
// Every malformed input (and an image without a PVH note) is an ErrorCode::Input error.
Result<ElfKernel> parse_elf_kernel(std::span<const uint8_t> file);

// Copies each segment to its p_paddr and zeroes its bss. Refuses segments below 1 MiB
// (KERNEL_LOAD_ADDR: zero page, tables, BIOS area) or not inside guest RAM. Segments are
// re-checked against `file`, so a stale `kernel` cannot read outside it.
Result<LoadedKernel> load_elf_kernel(const GuestMemory& mem, std::span<const uint8_t> file,
                                     const ElfKernel& kernel);

} // namespace minivmm
