// Tests of machine/guest_description: what a kernel finds in RAM after step 4 of
// Machine::create, read back from plain GuestMemory (no /dev/kvm): the devices in the DSDT and,
// only with acpi=off, also on the command line (one virtio_mmio.device= each), the zero page or
// the hvm_start_info with the initrd.
#include "machine/guest_description.hpp"

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "memory/layout.hpp"
#include "pvh_start_info.hpp"

namespace minivmm {
namespace {

// Packed fields (the zero page's setup header) are copied before comparing: gtest binds
// references, which would be misaligned.
template <typename T>
T copy(T value) {
    return value;
}


const std::vector<acpi::VirtioMmioDeviceInfo> TWO_DEVICES = {{0xd000'1000, 0x1000, 5},
                                                             {0xd000'2000, 0x1000, 6}};

setup_header kernel_header() {
    setup_header h{};
    h.boot_flag = 0xaa55;
    h.header = 0x53726448;
    h.version = 0x020f;
    h.cmdline_size = 2047;
    h.initrd_addr_max = 0x7fffffff;
    h.xloadflags = XLF_KERNEL_64;
    return h;
}

std::string read_string(const GuestMemory& mem, uint64_t addr) {
    std::string s;
    for (uint64_t a = addr; s.size() < 70000; ++a) {
        auto c = mem.read_obj<char>(GuestAddress(a));
        if (!c || *c == '\0') break;
        s += *c;
    }
    return s;
}

// Occurrences of `needle` in the ACPI area (the DSDT's _HID strings live there).
int count_in_acpi_area(const GuestMemory& mem, std::string_view needle) {
    std::vector<uint8_t> area(layout::ACPI_TABLES_END - layout::ACPI_TABLES_START);
    EXPECT_TRUE(mem.read(GuestAddress(layout::ACPI_TABLES_START), area).has_value());
    std::string_view text(reinterpret_cast<const char*>(area.data()), area.size());
    int n = 0;
    for (size_t pos = text.find(needle); pos != std::string_view::npos; pos = text.find(needle, pos + 1)) ++n;
    return n;
}

GuestDescription bzimage(std::vector<acpi::VirtioMmioDeviceInfo> devices) {
    GuestDescription d;
    d.bzimage_header = kernel_header();
    d.cmdline_capacity = 2047;
    d.user_cmdline = "console=ttyS0 panic=-1";
    d.num_vcpus = 2;
    d.virtio_devices = std::move(devices);
    d.initrd_addr = 0x0f00'0000;
    d.initrd_size = 0x12345;
    return d;
}

TEST(GuestDescription, BzImageZeroPagePointsAtCmdlineInitrdAndRsdp) {
    auto mem = *GuestMemory::create_x86(256ULL << 20);
    auto rsi = write_guest_description(mem, bzimage(TWO_DEVICES));
    ASSERT_TRUE(rsi.has_value()) << rsi.error().message();
    EXPECT_EQ(*rsi, GuestAddress(layout::ZERO_PAGE_ADDR));
    auto zp = mem.read_obj<boot_params>(GuestAddress(layout::ZERO_PAGE_ADDR));
    ASSERT_TRUE(zp.has_value());
    EXPECT_EQ(copy(zp->hdr.type_of_loader), 0xff);
    EXPECT_EQ(read_string(mem, zp->hdr.cmd_line_ptr), "console=ttyS0 panic=-1");
    EXPECT_EQ(copy(zp->hdr.ramdisk_image), 0x0f00'0000u);
    EXPECT_EQ(copy(zp->hdr.ramdisk_size), 0x12345u);
    EXPECT_EQ(copy(zp->acpi_rsdp_addr), layout::ACPI_TABLES_START);
    EXPECT_EQ(copy(zp->e820_entries), 3);
    // The 64-bit entry's page tables are in place.
    auto pml4e = mem.read_obj<uint64_t>(GuestAddress(layout::PML4_ADDR));
    EXPECT_EQ(*pml4e & ~0xfffULL, layout::PDPT_ADDR);
}

TEST(GuestDescription, VirtioDevicesAreInTheDsdtOnly) {
    auto mem = *GuestMemory::create_x86(64ULL << 20);
    ASSERT_TRUE(write_guest_description(mem, bzimage(TWO_DEVICES)).has_value());
    EXPECT_EQ(count_in_acpi_area(mem, "LNRO0005"), 2);
    std::string line = read_string(mem, layout::CMDLINE_ADDR);
    EXPECT_EQ(line.find("virtio_mmio"), std::string::npos) << line;

    auto none = *GuestMemory::create_x86(64ULL << 20);
    ASSERT_TRUE(write_guest_description(none, bzimage({})).has_value());
    EXPECT_EQ(count_in_acpi_area(none, "LNRO0005"), 0);
    EXPECT_EQ(read_string(none, layout::CMDLINE_ADDR), "console=ttyS0 panic=-1");
}

TEST(GuestDescription, PvhStartInfoCarriesTheInitrdModule) {
    auto mem = *GuestMemory::create_x86(64ULL << 20);
    GuestDescription d;
    d.cmdline_capacity = layout::CMDLINE_MAX - 1;
    d.user_cmdline = "status=3 acpi=off";
    d.virtio_devices = TWO_DEVICES;
    d.initrd_addr = 0x300'0000;
    d.initrd_size = 0x4000;
    auto ebx = write_guest_description(mem, d);
    ASSERT_TRUE(ebx.has_value()) << ebx.error().message();
    EXPECT_EQ(*ebx, GuestAddress(layout::PVH_START_INFO_ADDR));
    auto si = *mem.read_obj<firmware::HvmStartInfo>(*ebx);
    EXPECT_EQ(copy(si.magic), firmware::HVM_START_MAGIC);
    ASSERT_EQ(copy(si.nr_modules), 1u);
    auto mod = *mem.read_obj<firmware::HvmModlistEntry>(GuestAddress(si.modlist_paddr));
    EXPECT_EQ(copy(mod.paddr), 0x300'0000u);
    EXPECT_EQ(copy(mod.size), 0x4000u);
    EXPECT_EQ(read_string(mem, si.cmdline_paddr),
              "status=3 acpi=off virtio_mmio.device=4K@0xd0001000:5 "
              "virtio_mmio.device=4K@0xd0002000:6");
    EXPECT_EQ(copy(si.rsdp_paddr), layout::ACPI_TABLES_START);
    // The zero page is not written for PVH.
    EXPECT_EQ(*mem.read_obj<uint32_t>(GuestAddress(layout::ZERO_PAGE_ADDR + 0x202)), 0u);
}

// The MP table's floating pointer, read back (its contents are tested in mptable_test).
std::string mp_signature(const GuestMemory& mem) {
    char sig[4] = {};
    EXPECT_TRUE(mem.read(GuestAddress(layout::MPTABLE_START), {reinterpret_cast<uint8_t*>(sig), 4}));
    return std::string(sig, 4);
}

TEST(GuestDescription, EveryKernelBootGetsAnMpTable) {
    auto bz = *GuestMemory::create_x86(64ULL << 20);
    ASSERT_TRUE(write_guest_description(bz, bzimage(TWO_DEVICES)).has_value());
    EXPECT_EQ(mp_signature(bz), "_MP_");
    auto pvh = *GuestMemory::create_x86(64ULL << 20);
    GuestDescription d;
    d.cmdline_capacity = 100;
    ASSERT_TRUE(write_guest_description(pvh, d).has_value());
    EXPECT_EQ(mp_signature(pvh), "_MP_");
    // The MP table's processor entries follow num_vcpus (bad counts are refused with the MADT's).
    d.num_vcpus = 0;
    EXPECT_FALSE(write_guest_description(pvh, d).has_value());
}

TEST(GuestDescription, PvhWithoutInitrdHasNoModule) {
    auto mem = *GuestMemory::create_x86(64ULL << 20);
    GuestDescription d;
    d.cmdline_capacity = 100;
    auto ebx = write_guest_description(mem, d);
    ASSERT_TRUE(ebx.has_value());
    EXPECT_EQ(copy(mem.read_obj<firmware::HvmStartInfo>(*ebx)->nr_modules), 0u);
    EXPECT_EQ(read_string(mem, layout::CMDLINE_ADDR), "");
}

TEST(GuestDescription, WithAcpiOffTheDevicesAreOnTheCmdlineToo) {
    auto mem = *GuestMemory::create_x86(64ULL << 20);
    auto d = bzimage(TWO_DEVICES);
    d.user_cmdline = "console=ttyS0 acpi=off panic=-1";
    ASSERT_TRUE(write_guest_description(mem, d).has_value());
    EXPECT_EQ(count_in_acpi_area(mem, "LNRO0005"), 2);
    EXPECT_EQ(read_string(mem, layout::CMDLINE_ADDR),
              "console=ttyS0 acpi=off panic=-1 virtio_mmio.device=4K@0xd0001000:5 "
              "virtio_mmio.device=4K@0xd0002000:6");
}

TEST(AssembleCmdline, DeviceParametersOnlyForAWholeAcpiOffWord) {
    auto with = assemble_cmdline(200, "acpi=off", {TWO_DEVICES[0]});
    ASSERT_TRUE(with.has_value());
    EXPECT_EQ(*with, "acpi=off virtio_mmio.device=4K@0xd0001000:5");
    for (const char* user : {"", "console=ttyS0", "acpi=offline", "xacpi=off", "acpi=noirq",
                             "quiet -- acpi=off"}) {
        auto without = assemble_cmdline(200, user, {TWO_DEVICES[0]});
        ASSERT_TRUE(without.has_value());
        EXPECT_EQ(*without, user);
    }
}

TEST(AssembleCmdline, DeviceParametersCountAgainstTheKernelsLimit) {
    std::string user = "acpi=off";
    std::string one = "acpi=off virtio_mmio.device=4K@0xd0001000:5";
    auto fits = assemble_cmdline(one.size(), user, {TWO_DEVICES[0]});
    ASSERT_TRUE(fits.has_value());
    EXPECT_EQ(*fits, one);
    auto over = assemble_cmdline(one.size(), user, TWO_DEVICES);
    ASSERT_FALSE(over.has_value());
    EXPECT_EQ(over.error().code(), ErrorCode::Usage);
    EXPECT_NE(over.error().message().find("virtio_mmio.device= parameters of 2 devices"),
              std::string::npos)
        << over.error().message();
    EXPECT_EQ(over.error().message().find('\n'), std::string::npos);
    auto user_too_long = assemble_cmdline(5, user, {});
    ASSERT_FALSE(user_too_long.has_value());
    EXPECT_NE(user_too_long.error().message().find("--cmdline"), std::string::npos);
}

TEST(GuestDescription, CmdlineOverflowWritesNothing) {
    auto mem = *GuestMemory::create_x86(64ULL << 20);
    auto d = bzimage(TWO_DEVICES);
    d.user_cmdline += " acpi=off";
    d.cmdline_capacity = d.user_cmdline.size() + 10;
    EXPECT_FALSE(write_guest_description(mem, d).has_value());
    EXPECT_EQ(read_string(mem, layout::CMDLINE_ADDR), "");
    EXPECT_EQ(*mem.read_obj<uint8_t>(GuestAddress(layout::ZERO_PAGE_ADDR + 0x210)), 0);
}

} // namespace
} // namespace minivmm
