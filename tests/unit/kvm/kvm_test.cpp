// Kvm::open's error lines for hosts that cannot run us (no /dev/kvm needed).
#include "kvm/kvm.hpp"

#include <gtest/gtest.h>

namespace minivmm {
namespace {

TEST(Kvm, MissingDeviceSaysSoAndHowToFix) {
    auto kvm = Kvm::open("/nonexistent/kvm");
    ASSERT_FALSE(kvm);
    EXPECT_EQ(kvm.error().code(), ErrorCode::KvmUnusable);
    EXPECT_NE(kvm.error().message().find("no such device"), std::string::npos)
        << kvm.error().message();
}

TEST(Kvm, NonKvmDeviceFailsTheApiCheck) {
    // /dev/null opens but answers no KVM ioctl.
    auto kvm = Kvm::open("/dev/null");
    ASSERT_FALSE(kvm);
    EXPECT_EQ(kvm.error().code(), ErrorCode::KvmUnusable);
    EXPECT_NE(kvm.error().message().find("API version"), std::string::npos)
        << kvm.error().message();
}

} // namespace
} // namespace minivmm
