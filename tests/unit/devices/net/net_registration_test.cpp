// The card's part in a snapshot and a restore: a card on passt is refused for snapshots; an
// override moves the snapshot's card to another tap or stream socket with the MAC the guest
// read from it.
#include "net/net_registration.hpp"

#include <gtest/gtest.h>

#include "device_override.hpp"
#include "net/net_spec.hpp"

namespace minivmm::net {
namespace {

using test::override_of;
using test::parsed;

TEST(NetRegistration, OnlyCardsOnPasstAreRefusedForSnapshots) {
    EXPECT_FALSE(parsed(DEVICE_TYPE, "tap0")->snapshot_refusal());
    EXPECT_FALSE(parsed(DEVICE_TYPE, "stream=/run/passt.sock")->snapshot_refusal());
    auto why = parsed(DEVICE_TYPE, "user")->snapshot_refusal();
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("--net user cannot be snapshotted"), std::string::npos) << *why;
}

TEST(NetRegistration, AnOverrideKeepsTheSnapshotsMac) {
    ASSERT_NE(DEVICE_TYPE.restore_override, nullptr);
    const std::string mac = format_mac(generated_mac("tap0"));
    EXPECT_EQ(override_of(DEVICE_TYPE, "tap0", "tap1").value(), "tap=tap1,mac=" + mac);
    EXPECT_EQ(override_of(DEVICE_TYPE, "tap0", "stream=/s").value(), "stream=/s,mac=" + mac);
    EXPECT_EQ(override_of(DEVICE_TYPE, "tap=tap0,mac=52:54:00:00:00:01", "tap=t2,mac=52:54:00:00:00:01").value(),
              "tap=t2,mac=52:54:00:00:00:01");
    auto other = override_of(DEVICE_TYPE, "tap0", "tap=tap1,mac=52:54:00:00:00:02");
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().code(), ErrorCode::Input);
    EXPECT_NE(other.error().message().find("the guest read the MAC " + mac), std::string::npos)
        << other.error().message();
    auto user = override_of(DEVICE_TYPE, "tap0", "user");
    ASSERT_FALSE(user);
    EXPECT_NE(user.error().message().find("--net user: a restored card goes on a tap"),
              std::string::npos) << user.error().message();
}

} // namespace
} // namespace minivmm::net
