// Tests of machine/machine_plan: the devices' windows, interrupts and notifications and the
// irqchip decision, computed from a configuration alone (no /dev/kvm, no files opened).
#include "machine/machine_plan.hpp"

#include <gtest/gtest.h>

#include <linux/virtio_mmio.h>

#include "memory/layout.hpp"

namespace minivmm {
namespace {

MachineConfig kernel_with(size_t disks, size_t nets) {
    MachineConfig config;
    config.kernel = "vmlinux";
    for (size_t i = 0; i < disks; ++i)
        EXPECT_TRUE(add_device_option(config.devices, "disk", "disk" + std::to_string(i) + ".img"));
    for (size_t i = 0; i < nets; ++i)
        EXPECT_TRUE(add_device_option(config.devices, "net", "tap" + std::to_string(i)));
    return config;
}

TEST(MachinePlan, TwoDisksAndANetGetConsecutiveSlotsDisksFirst) {
    auto plan = plan_machine(kernel_with(2, 1));
    ASSERT_TRUE(plan) << plan.error().message();
    EXPECT_TRUE(plan->irqchip);
    ASSERT_EQ(plan->virtio.size(), 3u);
    const VirtioDevicePlan& blk0 = plan->virtio[0];
    const VirtioDevicePlan& blk1 = plan->virtio[1];
    const VirtioDevicePlan& net0 = plan->virtio[2];
    EXPECT_EQ(blk0.type, find_device_type("disk"));
    EXPECT_EQ(blk1.index, 1u);
    EXPECT_EQ(net0.type, find_device_type("net"));
    EXPECT_EQ(net0.index, 0u);
    EXPECT_EQ(blk0.base, 0xd000'1000u);
    EXPECT_EQ(blk1.base, 0xd000'2000u);
    EXPECT_EQ(net0.base, 0xd000'3000u);
    for (const VirtioDevicePlan& d : plan->virtio) EXPECT_EQ(d.size, 0x1000u);
    EXPECT_EQ(blk0.gsi, 5u);
    EXPECT_EQ(blk1.gsi, 6u);
    EXPECT_EQ(net0.gsi, 7u);
    EXPECT_EQ(blk0.label(), "virtio-blk0 at 0xd0001000, irq 5 (disk0.img)");
    EXPECT_EQ(net0.label(), "virtio-net0 at 0xd0003000, irq 7 (tap0)");
}

// Shares (MachineConfig::shares, however they got there) are virtio-9p devices after the
// others; a share another part of minivmm added is checked like one from the command line.
TEST(MachinePlan, SharesTakeTheSlotsAfterTheOtherDevices) {
    MachineConfig config = kernel_with(1, 0);
    config.shares.push_back({"/", "minivmm-root", false});
    config.shares.push_back({"/tmp", "tmp", true});
    EXPECT_TRUE(add_device_option(config.devices, "rng", ""));
    auto plan = plan_machine(config);
    ASSERT_TRUE(plan) << plan.error().message();
    ASSERT_EQ(plan->virtio.size(), 4u);
    EXPECT_EQ(plan->virtio[1].type, find_device_type("rng"));
    EXPECT_EQ(plan->virtio[2].type, find_device_type("share"));
    EXPECT_EQ(plan->virtio[2].label(), "virtio-9p0 at 0xd0003000, irq 7 (/ as 'minivmm-root', read-only)");
    EXPECT_EQ(plan->virtio[3].label(), "virtio-9p1 at 0xd0004000, irq 10 (/tmp as 'tmp', rw)");
    EXPECT_EQ(plan->virtio[3].notify.size(), 1u);
    config.shares.push_back({"/", "tmp", false});   // a tag used twice
    EXPECT_FALSE(plan_machine(config));
}

TEST(MachinePlan, OneNotificationPerQueueOnTheQueueNotifyRegister) {
    auto plan = plan_machine(kernel_with(1, 1));
    ASSERT_TRUE(plan);
    const auto& blk = plan->virtio[0].notify;
    ASSERT_EQ(blk.size(), 1u);   // one request queue
    EXPECT_EQ(blk[0].address, 0xd000'1000u + VIRTIO_MMIO_QUEUE_NOTIFY);
    EXPECT_EQ(blk[0].size, 4u);
    EXPECT_EQ(blk[0].datamatch, 0u);
    const auto& net = plan->virtio[1].notify;
    ASSERT_EQ(net.size(), 2u);   // receive and transmit
    EXPECT_EQ(net[0].address, 0xd000'2000u + VIRTIO_MMIO_QUEUE_NOTIFY);
    EXPECT_EQ(net[0].datamatch, 0u);
    EXPECT_EQ(net[1].address, net[0].address);
    EXPECT_EQ(net[1].datamatch, 1u);
}

TEST(MachinePlan, TheGuestDescriptionListsEveryDeviceInSlotOrder) {
    auto plan = plan_machine(kernel_with(2, 1));
    ASSERT_TRUE(plan);
    auto infos = plan->virtio_mmio();
    ASSERT_EQ(infos.size(), 3u);
    for (size_t i = 0; i < infos.size(); ++i) {
        EXPECT_EQ(infos[i].base, plan->virtio[i].base);
        EXPECT_EQ(infos[i].size, plan->virtio[i].size);
        EXPECT_EQ(infos[i].irq, plan->virtio[i].gsi);
    }
}

TEST(MachinePlan, IrqchipForKernelsAndForDemosWithVirtioDevicesOnly) {
    MachineConfig demo;
    demo.demo = "hello";
    auto plain = plan_machine(demo);
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->irqchip);
    EXPECT_TRUE(plain->virtio.empty());
    ASSERT_TRUE(add_device_option(demo.devices, "net", "tap0"));
    EXPECT_TRUE(plan_machine(demo)->irqchip);
    auto kernel = plan_machine(kernel_with(0, 0));
    ASSERT_TRUE(kernel);
    EXPECT_TRUE(kernel->irqchip);
    EXPECT_TRUE(kernel->virtio.empty());
}

// The registry's order decides the slots, not the command line's: disks, nets, then rng.
TEST(MachinePlan, SlotsFollowTheRegistryOrderWhateverTheOptionOrder) {
    MachineConfig config = kernel_with(0, 0);
    ASSERT_TRUE(add_device_option(config.devices, "rng", ""));
    ASSERT_TRUE(add_device_option(config.devices, "net", "tap0"));
    ASSERT_TRUE(add_device_option(config.devices, "disk", "vm.img"));
    ASSERT_TRUE(add_device_option(config.devices, "rng", "rate=4096"));
    auto plan = plan_machine(config);
    ASSERT_TRUE(plan) << plan.error().message();
    ASSERT_EQ(plan->virtio.size(), 4u);
    EXPECT_EQ(plan->virtio[0].name, "virtio-blk0");
    EXPECT_EQ(plan->virtio[1].name, "virtio-net0");
    EXPECT_EQ(plan->virtio[2].name, "virtio-rng0");
    EXPECT_EQ(plan->virtio[3].name, "virtio-rng1");
    EXPECT_EQ(plan->virtio[3].host_end, "getrandom, 4096 B/s");
    EXPECT_EQ(plan->virtio[2].base, 0xd000'3000u);
    EXPECT_EQ(plan->virtio[2].notify.size(), 1u);
    EXPECT_FALSE(add_device_option(config.devices, "rng", "rate=fast"));
    EXPECT_FALSE(add_device_option(config.devices, "sound", ""));
}

TEST(MachinePlan, MoreDevicesThanSlotsIsAUsageError) {
    auto full = plan_machine(kernel_with(layout::VIRTIO_MMIO_MAX_DEVICES - 1, 1));
    ASSERT_TRUE(full);
    EXPECT_EQ(full->virtio.back().gsi,
              layout::VIRTIO_MMIO_IRQS[layout::VIRTIO_MMIO_MAX_DEVICES - 1]);
    auto over = plan_machine(kernel_with(layout::VIRTIO_MMIO_MAX_DEVICES, 1));
    ASSERT_FALSE(over);
    EXPECT_EQ(over.error().code(), ErrorCode::Usage);
    EXPECT_EQ(over.error().message(), "Too many virtio devices (at most 8)");
}

} // namespace
} // namespace minivmm
