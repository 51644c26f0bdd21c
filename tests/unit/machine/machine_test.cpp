// Machine::create up to the point this host allows (no /dev/kvm: --kvm /dev/null fails the KVM
// step after guest RAM, the event loop and the guest image are set up): the failure path
// releases every descriptor (counted over 200 tries) and reports the KVM device.
#include "machine/machine.hpp"

#include <gtest/gtest.h>

#include "../base/open_fds.hpp"

namespace minivmm {
namespace {

TEST(Machine, FailedCreateLeavesNoDescriptorBehind) {
    MachineConfig config;
    config.demo = "hello";
    config.kvm_path = "/dev/null";
    auto before = test::open_fds();
    for (int i = 0; i < 200; ++i) {
        auto m = Machine::create(config);
        ASSERT_FALSE(m);
        ASSERT_EQ(m.error().code(), ErrorCode::KvmUnusable) << m.error().message();
    }
    EXPECT_EQ(test::open_fds(), before);
}

TEST(Machine, BadRamSizeIsRefusedBeforeTheKvmDevice) {
    MachineConfig config;
    config.demo = "hello";
    config.mem_size = 1;
    config.kvm_path = "/nonexistent/kvm";   // never reached
    auto m = Machine::create(config);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code(), ErrorCode::Usage) << m.error().message();
}

} // namespace
} // namespace minivmm
