#include "net/net_spec.hpp"

#include <gtest/gtest.h>

namespace minivmm::net {
namespace {

TEST(NetSpec, ParsesMacWithColonsOrDashes) {
    auto a = parse_mac("52:54:00:AB:cd:0f");
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_EQ(*a, (MacAddress{0x52, 0x54, 0x00, 0xab, 0xcd, 0x0f}));
    auto b = parse_mac("02-00-00-00-00-01");
    ASSERT_TRUE(b);
    EXPECT_EQ(format_mac(*b), "02:00:00:00:00:01");
}

TEST(NetSpec, RefusesMalformedMulticastAndZeroMacs) {
    for (const char* bad : {"", "52:54:00:12:34", "52:54:00:12:34:567", "52:54:00:12:34:5g",
                            "52.54.00.12.34.56", "0152:54:00:12:34", "01:00:5e:00:00:01",
                            "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00"}) {
        auto r = parse_mac(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code(), ErrorCode::Usage);
        }
    }
}

TEST(NetSpec, GeneratedMacIsStableLocallyAdministeredUnicastAndPerName) {
    MacAddress a = generated_mac("tap0"), b = generated_mac("tap0"), c = generated_mac("tap1");
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    EXPECT_EQ(a[0] & 0x03, 0x02);   // locally administered, unicast
    EXPECT_TRUE(parse_mac(format_mac(a)));
}

TEST(NetSpec, ParsesBareNameAndKeyValueForms) {
    auto bare = parse_net_spec("tap0");
    ASSERT_TRUE(bare);
    EXPECT_EQ(bare->tap, "tap0");
    EXPECT_FALSE(bare->mac_given);
    EXPECT_EQ(bare->mac, generated_mac("tap0"));

    auto kv = parse_net_spec("mac=52:54:00:00:00:07,tap=vm-net");
    ASSERT_TRUE(kv) << kv.error().message();
    EXPECT_EQ(kv->tap, "vm-net");
    EXPECT_TRUE(kv->mac_given);
    EXPECT_EQ(format_mac(kv->mac), "52:54:00:00:00:07");
}

TEST(NetSpec, RefusesBadSpecsWithAUsageErrorNamingTheProblem) {
    struct Case { const char* spec; const char* needle; };
    const Case cases[] = {
        {"", "empty tap name"},
        {"tap=", "empty tap name"},
        {"averyveryverylongname", "longer than 15"},
        {"a/b", "not a valid interface name"},
        {"..", "not a valid interface name"},
        {"tap=a b", "not a valid interface name"},
        {"tap=x,mac=zz", "Invalid MAC address 'zz'"},
        {"tap=x,mac=01:00:00:00:00:01", "multicast"},
        {"tap=x,speed=10", "unknown key 'speed'"},
        {"tap=x,tap=y", "tap= given twice"},
        {"mac=52:54:00:00:00:07", "give exactly one of NAME, tap=NAME, user, stream=PATH"},
        {"tap=x,", "not KEY=VALUE"},
        {"tap=x,mac", "not KEY=VALUE"},
    };
    for (const auto& c : cases) {
        auto r = parse_net_spec(c.spec);
        ASSERT_FALSE(r) << c.spec;
        EXPECT_EQ(r.error().code(), ErrorCode::Usage) << c.spec;
        EXPECT_NE(r.error().message().find(c.needle), std::string::npos)
            << c.spec << ": " << r.error().message();
    }
}

TEST(NetSpec, ParsesUserWithForwardsAndStream) {
    auto user = parse_net_spec("user");
    ASSERT_TRUE(user) << user.error().message();
    EXPECT_EQ(user->backend, NetBackend::User);
    EXPECT_TRUE(user->forwards.empty());

    auto fwd = parse_net_spec(
        "user,hostfwd=tcp::8080-:80,hostfwd=udp:127.0.0.1:5353-:53,mac=52:54:00:00:00:01,log=/tmp/p.log");
    ASSERT_TRUE(fwd) << fwd.error().message();
    ASSERT_EQ(fwd->forwards.size(), 2u);
    EXPECT_FALSE(fwd->forwards[0].udp);
    EXPECT_EQ(fwd->forwards[0].addr, "");
    EXPECT_EQ(fwd->forwards[0].host_port, 8080);
    EXPECT_EQ(fwd->forwards[0].guest_port, 80);
    EXPECT_TRUE(fwd->forwards[1].udp);
    EXPECT_EQ(passt_port_spec(fwd->forwards[0]), "8080:80");
    EXPECT_EQ(passt_port_spec(fwd->forwards[1]), "127.0.0.1/5353:53");
    EXPECT_EQ(fwd->log, "/tmp/p.log");
    EXPECT_TRUE(fwd->mac_given);

    auto stream = parse_net_spec("stream=/run/passt.sock");
    ASSERT_TRUE(stream);
    EXPECT_EQ(stream->backend, NetBackend::Stream);
    EXPECT_EQ(stream->path, "/run/passt.sock");

    auto tap_named_user = parse_net_spec("tap=user");   // a tap called "user" is still possible
    ASSERT_TRUE(tap_named_user);
    EXPECT_EQ(tap_named_user->backend, NetBackend::Tap);
}

TEST(NetSpec, RefusesBadForwardsAndMixedBackends) {
    for (const char* bad :
         {"user,hostfwd=tcp:8080-:80", "user,hostfwd=sctp::1-:2", "user,hostfwd=tcp::0-:80",
          "user,hostfwd=tcp::65536-:80", "user,hostfwd=tcp::80-10.0.0.1:80",
          "user,hostfwd=tcp:::80-:80", "user,hostfwd=tcp:host:80-:80", "user,hostfwd=tcp::80:80",
          "user,hostfwd=tcp::8x-:80", "user,hostfwd=", "tap0,hostfwd=tcp::1-:1",
          "tap=tap0,hostfwd=tcp::1-:1", "stream=/s,log=/l", "user,tap=tap0", "user,user",
          "stream=", "stream=/a,stream=/b", "user,stream=/a", "user,log=", "user,log=a,log=b"}) {
        auto r = parse_net_spec(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code(), ErrorCode::Usage) << bad;
        }
    }
}

} // namespace
} // namespace minivmm::net
