// The Linux x86 boot protocol's "zero page" (struct boot_params, Documentation/arch/x86/boot.rst
// and zero-page.rst) for a bzImage entered at its 64-bit entry point.
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <vector>

#include "base/result.hpp"
#include "e820.hpp"
#include "memory/guest_memory.hpp"

namespace minivmm::firmware {

// What the loader reports to the kernel (type_of_loader 0xff: "undefined", boot.rst).
constexpr uint8_t LOADER_TYPE_UNDEFINED = 0xff;
// heap_end_ptr: boot.rst's sample loader puts the end of the setup heap at 0xe000 and stores it
// minus 0x200. The 64-bit entry does not run the setup code, but the kernel reads the flag.
constexpr uint16_t SETUP_HEAP_END_PTR = 0xe000 - 0x200;

struct BootParamsInfo {
    setup_header header{};                  // the image's own setup header (LoadedKernel::header)
    GuestAddress cmdline;                   // NUL-terminated command line
    uint64_t cmdline_len = 0;               // bytes without the NUL; <= header.cmdline_size
    uint64_t initrd_addr = 0;               // size 0: no initrd
    uint64_t initrd_size = 0;
    GuestAddress rsdp;                      // 0: let the kernel scan for it
    std::vector<E820Entry> memory_map;
};

// The zero page: the image's setup header with the loader's fields filled in (type_of_loader,
// LOADED_HIGH | CAN_USE_HEAP, heap_end_ptr, cmd_line_ptr, ramdisk_image/size and their ext_
// high halves), acpi_rsdp_addr, and the e820 table. Everything else is zero.
// ErrorCode::Invalid when the header is not a bzImage's (no "HdrS"), the command line is longer
// than the kernel's cmdline_size, the initrd ends past initrd_addr_max, or the memory map has
// more than E820_MAX_ENTRIES_ZEROPAGE entries.
Result<boot_params> build_boot_params(const BootParamsInfo& info);

} // namespace minivmm::firmware
