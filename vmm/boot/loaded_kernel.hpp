// LoadedKernel: what a kernel loader (bzImage or ELF/PVH) leaves for the machine builder.
#pragma once

#include <optional>

#include <asm/bootparam.h>

#include "memory/guest_address.hpp"

namespace minivmm {

// The lowest guest-physical address a kernel may be loaded at: below it lie the zero page,
// command line, page tables and the legacy BIOS area (layout.hpp).
constexpr uint64_t KERNEL_LOAD_ADDR = 0x10'0000;

struct LoadedKernel {
    GuestAddress entry;  // first instruction: 64-bit entry (bzImage) or 32-bit PVH entry (ELF)
    GuestAddress end;    // first byte after everything the kernel occupies (init_size/bss included)
    // bzImage only: the kernel's setup header, to be copied into boot_params.hdr.
    std::optional<setup_header> header;
};

} // namespace minivmm
