#include "cli/cli.hpp"

#include <gtest/gtest.h>

namespace minivmm {
namespace {

TEST(ParseSize, AcceptsSuffixes) {
    EXPECT_EQ(*parse_size("4096"), 4096u);
    EXPECT_EQ(*parse_size("4k"), 4096u);
    EXPECT_EQ(*parse_size("512M"), 512ull << 20);
    EXPECT_EQ(*parse_size("512MiB"), 512ull << 20);
    EXPECT_EQ(*parse_size("2G"), 2ull << 30);
    EXPECT_EQ(*parse_size("1T"), 1ull << 40);
}

TEST(ParseSize, RejectsGarbage) {
    for (const char* bad : {"", "-1", "M", "12X", "1.5G", "1GG", " 1", "1 "}) {
        auto r = parse_size(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code(), ErrorCode::Usage);
        }
    }
}

TEST(ParseSize, RejectsOverflow) {
    EXPECT_FALSE(parse_size("18446744073709551616"));   // 2^64
    EXPECT_FALSE(parse_size("17179869184G"));           // 2^34 GiB = 2^64
    EXPECT_TRUE(parse_size("18446744073709551615"));
}

} // namespace
} // namespace minivmm
