// The PVH boot ABI's start-of-day structure (Xen docs/misc/pvh.pandoc, and
// xen/include/public/arch-x86/hvm/start_info.h): a PVH guest is entered in 32-bit protected
// mode with EBX holding the guest-physical address of an hvm_start_info.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.hpp"
#include "e820.hpp"
#include "memory/guest_memory.hpp"

namespace minivmm::firmware {

constexpr uint32_t HVM_START_MAGIC = 0x336ec578;   // "xEn3" with the 0x80 bit of the "E" set
constexpr uint32_t HVM_START_INFO_VERSION = 1;     // version 1 adds the memory map

#pragma pack(push, 1)
struct HvmStartInfo {
    uint32_t magic;            // 0x00 HVM_START_MAGIC
    uint32_t version;          // 0x04
    uint32_t flags;            // 0x08 SIF_xxx; 0
    uint32_t nr_modules;       // 0x0c entries in the module list
    uint64_t modlist_paddr;    // 0x10 HvmModlistEntry[nr_modules]
    uint64_t cmdline_paddr;    // 0x18 NUL-terminated command line, 0 if none
    uint64_t rsdp_paddr;       // 0x20 ACPI RSDP
    uint64_t memmap_paddr;     // 0x28 HvmMemmapEntry[memmap_entries] (version >= 1)
    uint32_t memmap_entries;   // 0x30
    uint32_t reserved;         // 0x34 must be 0
};
static_assert(sizeof(HvmStartInfo) == 0x38);

struct HvmModlistEntry {
    uint64_t paddr;            // 0x00 module start (the initrd)
    uint64_t size;             // 0x08
    uint64_t cmdline_paddr;    // 0x10 0: no command line for the module
    uint64_t reserved;         // 0x18
};
static_assert(sizeof(HvmModlistEntry) == 0x20);

struct HvmMemmapEntry {
    uint64_t addr;             // 0x00
    uint64_t size;             // 0x08
    uint32_t type;             // 0x10 the e820 types (1 RAM, 2 reserved, 3 ACPI)
    uint32_t reserved;         // 0x14
};
static_assert(sizeof(HvmMemmapEntry) == 0x18);
#pragma pack(pop)

struct PvhBootInfo {
    GuestAddress cmdline;                  // 0 for none
    GuestAddress rsdp;
    std::vector<E820Entry> memory_map;
    uint64_t initrd_addr = 0;              // size 0: no initrd module
    uint64_t initrd_size = 0;
};

// Writes the hvm_start_info at `base`, then the module list and memory map right after it, all
// inside [base, base + space). Returns `base` (the value for EBX). ErrorCode::Invalid if the
// structures do not fit in `space` or in guest RAM.
Result<GuestAddress> write_pvh_start_info(const GuestMemory& mem, GuestAddress base,
                                          uint64_t space, const PvhBootInfo& info);

} // namespace minivmm::firmware
