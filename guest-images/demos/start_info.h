/* The hvm_start_info a PVH loader hands over in EBX (the PVH boot ABI; Xen's
 * include/public/arch-x86/hvm/start_info.h), for the PVH guests. */
#pragma once
#include <stdint.h>

#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
} __attribute__((packed));
