// Tests of firmware/boot_params: the zero page's loader fields, e820 copy and limits.
#include "boot_params.hpp"

#include <cstddef>
#include <cstring>

#include <gtest/gtest.h>

#include "memory/layout.hpp"

namespace minivmm::firmware {
namespace {

// Packed fields (the zero page's setup header) are copied before comparing: gtest binds
// references, which would be misaligned.
template <typename T>
T copy(T value) {
    return value;
}


BootParamsInfo valid_info() {
    BootParamsInfo info;
    info.header.boot_flag = 0xaa55;
    info.header.header = 0x53726448;   // "HdrS"
    info.header.version = 0x020f;
    info.header.setup_sects = 27;
    info.header.loadflags = 0;
    info.header.cmdline_size = 2047;
    info.header.initrd_addr_max = 0x7fffffff;
    info.header.init_size = 0x123000;
    info.header.xloadflags = XLF_KERNEL_64;
    info.cmdline = GuestAddress(layout::CMDLINE_ADDR);
    info.cmdline_len = 13;
    info.initrd_addr = 0x3f00'0000;
    info.initrd_size = 0x10'1234;
    info.rsdp = GuestAddress(layout::ACPI_TABLES_START);
    info.memory_map = *build_e820_map(256ULL << 20);
    return info;
}

TEST(BootParams, ZeroPageHasTheKernelsHeaderAndTheLoadersFields) {
    auto p = build_boot_params(valid_info());
    ASSERT_TRUE(p.has_value()) << p.error().message();
    // The image's own fields are kept.
    EXPECT_EQ(copy(p->hdr.boot_flag), 0xaa55);
    EXPECT_EQ(copy(p->hdr.header), 0x53726448u);
    EXPECT_EQ(copy(p->hdr.version), 0x020f);
    EXPECT_EQ(copy(p->hdr.setup_sects), 27);
    EXPECT_EQ(copy(p->hdr.init_size), 0x123000u);
    EXPECT_EQ(copy(p->hdr.xloadflags), XLF_KERNEL_64);
    // The loader's.
    EXPECT_EQ(copy(p->hdr.type_of_loader), 0xff);
    EXPECT_EQ(copy(p->hdr.loadflags) & LOADED_HIGH, LOADED_HIGH);
    EXPECT_EQ(copy(p->hdr.loadflags) & CAN_USE_HEAP, CAN_USE_HEAP);
    EXPECT_EQ(copy(p->hdr.heap_end_ptr), 0xde00);
    EXPECT_EQ(copy(p->hdr.cmd_line_ptr), layout::CMDLINE_ADDR);
    EXPECT_EQ(copy(p->ext_cmd_line_ptr), 0u);
    EXPECT_EQ(copy(p->hdr.ramdisk_image), 0x3f00'0000u);
    EXPECT_EQ(copy(p->hdr.ramdisk_size), 0x10'1234u);
    EXPECT_EQ(copy(p->ext_ramdisk_image), 0u);
    EXPECT_EQ(copy(p->ext_ramdisk_size), 0u);
    EXPECT_EQ(copy(p->acpi_rsdp_addr), layout::ACPI_TABLES_START);
}

TEST(BootParams, FieldsSitAtTheirZeroPageOffsets) {
    // zero-page.rst offsets: the kernel reads these bytes, not our struct.
    auto p = build_boot_params(valid_info());
    ASSERT_TRUE(p.has_value());
    const auto* bytes = reinterpret_cast<const uint8_t*>(&*p);
    EXPECT_EQ(sizeof(boot_params), 4096u);
    EXPECT_EQ(bytes[0x210], 0xff);                     // type_of_loader
    EXPECT_EQ(bytes[0x211] & 0x81, 0x81);              // loadflags
    uint32_t cmd_line_ptr;
    std::memcpy(&cmd_line_ptr, bytes + 0x228, 4);
    EXPECT_EQ(cmd_line_ptr, layout::CMDLINE_ADDR);
    uint64_t rsdp;
    std::memcpy(&rsdp, bytes + 0x070, 8);
    EXPECT_EQ(rsdp, layout::ACPI_TABLES_START);
    EXPECT_EQ(bytes[0x1e8], 3);                         // e820_entries for 256 MiB
}

TEST(BootParams, E820TableIsCopiedEntryByEntry) {
    auto info = valid_info();
    info.memory_map = *build_e820_map(5ULL << 30);
    auto p = build_boot_params(info);
    ASSERT_TRUE(p.has_value());
    ASSERT_EQ(copy(p->e820_entries), info.memory_map.size());
    for (size_t i = 0; i < info.memory_map.size(); ++i) {
        EXPECT_EQ(uint64_t{p->e820_table[i].addr}, uint64_t{info.memory_map[i].addr}) << i;
        EXPECT_EQ(uint64_t{p->e820_table[i].size}, uint64_t{info.memory_map[i].size}) << i;
        EXPECT_EQ(uint32_t{p->e820_table[i].type}, uint32_t{info.memory_map[i].type}) << i;
    }
    EXPECT_EQ(uint64_t{p->e820_table[info.memory_map.size()].size}, 0u);   // the rest is zero
}

TEST(BootParams, HighAddressesGoToTheExtFields) {
    auto info = valid_info();
    info.header.initrd_addr_max = 0xffffffff;
    info.cmdline = GuestAddress(0x1'2345'6000);
    info.initrd_addr = 0x1000;
    info.initrd_size = 0x1'0000'2000;   // ends above 4 GiB: past initrd_addr_max
    EXPECT_FALSE(build_boot_params(info).has_value());
    info.initrd_size = 0x2000;
    auto p = build_boot_params(info);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(copy(p->hdr.cmd_line_ptr), 0x2345'6000u);
    EXPECT_EQ(copy(p->ext_cmd_line_ptr), 1u);
}

TEST(BootParams, NoInitrdLeavesTheRamdiskFieldsZero) {
    auto info = valid_info();
    info.initrd_addr = 0;
    info.initrd_size = 0;
    auto p = build_boot_params(info);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(copy(p->hdr.ramdisk_image), 0u);
    EXPECT_EQ(copy(p->hdr.ramdisk_size), 0u);
}

TEST(BootParams, RejectsWhatTheKernelWouldMisread) {
    auto info = valid_info();
    info.header.header = 0;
    EXPECT_EQ(build_boot_params(info).error().code(), ErrorCode::Invalid);

    info = valid_info();
    info.cmdline_len = 2048;   // cmdline_size 2047
    auto r = build_boot_params(info);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message().find("2047"), std::string::npos) << r.error().message();
    info.cmdline_len = 2047;
    EXPECT_TRUE(build_boot_params(info).has_value());

    info = valid_info();
    info.initrd_addr = 0x7fff'f000;
    info.initrd_size = 0x1001;   // last byte 0x80000000 > initrd_addr_max
    EXPECT_FALSE(build_boot_params(info).has_value());
    info.initrd_size = 0x1000;   // last byte exactly initrd_addr_max
    EXPECT_TRUE(build_boot_params(info).has_value());

    info = valid_info();
    info.initrd_addr = UINT64_MAX - 10;   // wraps
    info.initrd_size = 100;
    EXPECT_FALSE(build_boot_params(info).has_value());

    info = valid_info();
    info.memory_map.assign(E820_MAX_ENTRIES_ZEROPAGE + 1, E820Entry{0, 0x1000, E820_TYPE_RAM});
    EXPECT_FALSE(build_boot_params(info).has_value());
}

} // namespace
} // namespace minivmm::firmware
