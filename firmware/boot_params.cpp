// The zero page for the 64-bit boot protocol; see boot_params.hpp.
#include "boot_params.hpp"

#include <cstring>

#include <fmt/format.h>

namespace minivmm::firmware {

namespace {
constexpr uint32_t HDRS_MAGIC = 0x5372'6448;   // "HdrS"
Error invalid(std::string what) { return Error(ErrorCode::Invalid, "boot_params: " + std::move(what)); }
uint32_t low32(uint64_t v) { return static_cast<uint32_t>(v & 0xffff'ffff); }
uint32_t high32(uint64_t v) { return static_cast<uint32_t>(v >> 32); }
} // namespace

Result<boot_params> build_boot_params(const BootParamsInfo& info) {
    if (info.header.header != HDRS_MAGIC) return invalid("the setup header has no \"HdrS\" magic");
    // cmdline_size is the longest line without its NUL (protocol 2.06+; the loader checked 2.10).
    if (info.cmdline_len > info.header.cmdline_size)
        return invalid(fmt::format("command line of {} bytes is longer than the kernel's {}",
                                   info.cmdline_len, uint32_t{info.header.cmdline_size}));
    if (info.initrd_size != 0) {
        // initrd_addr_max is the highest address the initrd's last byte may occupy.
        uint64_t last = info.initrd_addr + info.initrd_size - 1;
        if (last < info.initrd_addr || last > info.header.initrd_addr_max)
            return invalid(fmt::format("initrd [{:#x}, +{:#x}) ends above initrd_addr_max {:#x}",
                                       info.initrd_addr, info.initrd_size,
                                       uint32_t{info.header.initrd_addr_max}));
    }
    if (info.memory_map.size() > size_t{E820_MAX_ENTRIES_ZEROPAGE})
        return invalid(fmt::format("{} e820 entries, the zero page holds {}",
                                   info.memory_map.size(), E820_MAX_ENTRIES_ZEROPAGE));

    boot_params params{};
    params.hdr = info.header;
    params.hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
    params.hdr.loadflags = static_cast<uint8_t>(params.hdr.loadflags | LOADED_HIGH | CAN_USE_HEAP);
    params.hdr.heap_end_ptr = SETUP_HEAP_END_PTR;
    params.hdr.cmd_line_ptr = low32(info.cmdline.value());
    params.ext_cmd_line_ptr = high32(info.cmdline.value());
    params.hdr.ramdisk_image = low32(info.initrd_addr);
    params.ext_ramdisk_image = high32(info.initrd_addr);
    params.hdr.ramdisk_size = low32(info.initrd_size);
    params.ext_ramdisk_size = high32(info.initrd_size);
    params.acpi_rsdp_addr = info.rsdp.value();
    params.e820_entries = static_cast<uint8_t>(info.memory_map.size());
    for (size_t i = 0; i < info.memory_map.size(); ++i)
        std::memcpy(&params.e820_table[i], &info.memory_map[i], sizeof(E820Entry));
    return params;
}

} // namespace minivmm::firmware
