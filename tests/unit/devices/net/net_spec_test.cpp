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
        {"mac=52:54:00:00:00:07", "tap=NAME is missing"},
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

} // namespace
} // namespace minivmm::net
