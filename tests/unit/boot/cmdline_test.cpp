// Tests of the kernel command line builder and initrd placement.
#include "boot/cmdline.hpp"

#include <gtest/gtest.h>

using namespace minivmm;

TEST(Cmdline, JoinsParametersWithSpaces) {
    Cmdline c(100);
    ASSERT_TRUE(c.add("console=ttyS0").has_value());
    ASSERT_TRUE(c.add("quiet").has_value());
    ASSERT_TRUE(c.add("root", "/dev/vda").has_value());
    EXPECT_EQ(c.str(), "console=ttyS0 quiet root=/dev/vda");
    auto b = c.bytes();
    ASSERT_EQ(b.size(), c.str().size() + 1);
    EXPECT_EQ(b.back(), 0);
}

TEST(Cmdline, ExactCapacityFitsOneMoreByteFails) {
    Cmdline c(9);
    ASSERT_TRUE(c.add("abcd").has_value());
    ASSERT_TRUE(c.add("efgh").has_value());  // "abcd efgh": 9 bytes
    auto r = c.add("i");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::Input);
    EXPECT_EQ(c.str(), "abcd efgh");  // unchanged, not truncated
}

TEST(Cmdline, SeparatorCountsTowardsCapacity) {
    Cmdline c(8);
    ASSERT_TRUE(c.add("abcd").has_value());
    EXPECT_FALSE(c.add("efgh").has_value());  // would be 9 bytes with the space
    EXPECT_TRUE(c.add("efg").has_value());
    EXPECT_EQ(c.str(), "abcd efg");
}

TEST(Cmdline, RejectsEmptyNulAndZeroCapacity) {
    Cmdline c(100);
    EXPECT_FALSE(c.add("").has_value());
    EXPECT_FALSE(c.add(std::string_view("a\0b", 3)).has_value());
    EXPECT_EQ(c.str(), "");
    Cmdline none(0);
    EXPECT_FALSE(none.add("x").has_value());
}

TEST(InitrdPlacement, HighestPageBelowRamTop) {
    auto a = place_initrd(GuestAddress(0x800000), DEFAULT_INITRD_ADDR_MAX, 0x1800,
                          GuestAddress(0x200000));
    ASSERT_TRUE(a.has_value()) << a.error().message();
    EXPECT_EQ(*a, GuestAddress(0x7fe000));
}

TEST(InitrdPlacement, RespectsInitrdAddrMax) {
    auto a = place_initrd(GuestAddress(0xc0000000), 0x37ffffff, 0x1000, GuestAddress(0x200000));
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(*a, GuestAddress(0x37fff000));  // last byte 0x37ffffff == initrd_addr_max
    a = place_initrd(GuestAddress(0xc0000000), UINT64_MAX, 0x1000, GuestAddress(0x200000));
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(*a, GuestAddress(0xbffff000));
}

TEST(InitrdPlacement, ExactFitAboveKernel) {
    auto a = place_initrd(GuestAddress(0x200000), UINT64_MAX, 0xff000, GuestAddress(0x101000));
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(*a, GuestAddress(0x101000));
    EXPECT_FALSE(place_initrd(GuestAddress(0x200000), UINT64_MAX, 0xff001, GuestAddress(0x101000))
                     .has_value());
}

TEST(InitrdPlacement, KernelEndIsRoundedUpToAPage) {
    EXPECT_TRUE(place_initrd(GuestAddress(0x200000), UINT64_MAX, 0xff000, GuestAddress(0x100001))
                    .has_value());
    auto r = place_initrd(GuestAddress(0x200000), UINT64_MAX, 0xff001, GuestAddress(0x100001));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::Input);
}

TEST(InitrdPlacement, RejectsEmptyHugeAndImpossible) {
    EXPECT_FALSE(place_initrd(GuestAddress(0x800000), UINT64_MAX, 0, GuestAddress(0x200000))
                     .has_value());
    EXPECT_FALSE(place_initrd(GuestAddress(0x800000), UINT64_MAX, 0x800001, GuestAddress(0))
                     .has_value());
    EXPECT_FALSE(place_initrd(GuestAddress(0x800000), 0xfffff, 0x1000, GuestAddress(0x200000))
                     .has_value());  // limit below the kernel
    EXPECT_FALSE(place_initrd(GuestAddress(0x800000), UINT64_MAX, 0x1000,
                              GuestAddress(UINT64_MAX - 5))
                     .has_value());
}

TEST(VirtioMmioParam, SizeBaseAndIrqInTheKernelsFormat) {
    EXPECT_EQ(virtio_mmio_device_param(0x1000, 0xd0001000, 5),
              "virtio_mmio.device=4K@0xd0001000:5");
    EXPECT_EQ(virtio_mmio_device_param(0x200000, 0xd0000000, 12),
              "virtio_mmio.device=2M@0xd0000000:12");
    EXPECT_EQ(virtio_mmio_device_param(0x200, 0xd0001000, 7), "virtio_mmio.device=512@0xd0001000:7");
}

TEST(VirtioMmioParam, AppendedDevicesRespectTheLimit) {
    std::string user = "console=ttyS0";
    std::string dev = virtio_mmio_device_param(0x1000, 0xd0001000, 5);
    // Exactly room for the user's part and one device.
    Cmdline line(user.size() + 1 + dev.size());
    ASSERT_TRUE(line.add(user).has_value());
    ASSERT_TRUE(line.add(dev).has_value());
    EXPECT_EQ(line.str(), "console=ttyS0 virtio_mmio.device=4K@0xd0001000:5");
    auto r = line.add(virtio_mmio_device_param(0x1000, 0xd0002000, 6));
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message().find("longer than the kernel's"), std::string::npos);
    EXPECT_EQ(line.str(), "console=ttyS0 virtio_mmio.device=4K@0xd0001000:5");   // unchanged
}

TEST(HasKernelParam, MatchesWholeWordsOnly) {
    EXPECT_TRUE(has_kernel_param("acpi=off", "acpi=off"));
    EXPECT_TRUE(has_kernel_param("console=ttyS0  acpi=off\tquiet", "acpi=off"));
    EXPECT_FALSE(has_kernel_param("console=ttyS0 acpi=offx", "acpi=off"));
    EXPECT_FALSE(has_kernel_param("xacpi=off", "acpi=off"));
    EXPECT_FALSE(has_kernel_param("acpi=noirq", "acpi=off"));
    EXPECT_FALSE(has_kernel_param("", "acpi=off"));
}

TEST(HasKernelParam, PrefixMatchesAnyValue) {
    EXPECT_TRUE(has_kernel_param("quiet pci=noacpi", "pci=", ParamMatch::Prefix));
    EXPECT_TRUE(has_kernel_param("pci=", "pci=", ParamMatch::Prefix));
    EXPECT_FALSE(has_kernel_param("quiet xpci=off", "pci=", ParamMatch::Prefix));
    EXPECT_FALSE(has_kernel_param("pci", "pci=", ParamMatch::Prefix));
}

TEST(HasKernelParam, WordsAfterDoubleDashBelongToInit) {
    EXPECT_FALSE(has_kernel_param("console=ttyS0 -- acpi=off", "acpi=off"));
    EXPECT_TRUE(has_kernel_param("acpi=off -- single", "acpi=off"));
    EXPECT_FALSE(has_kernel_param("-- pci=off", "pci=", ParamMatch::Prefix));
    EXPECT_TRUE(has_kernel_param("a --x acpi=off", "acpi=off"));
}
