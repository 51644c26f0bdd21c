// WireReader and WireWriter: little-endian fields, strings bounded by the message and by the
// caller's limit, a failed reader or writer stays failed.
#include "p9/p9_wire.hpp"

#include <gtest/gtest.h>

namespace minivmm::p9 {
namespace {

TEST(WireReader, DecodesLittleEndianFieldsAndStrings) {
    const std::vector<uint8_t> bytes = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                        0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 3, 0, 'a', 'b', 'c'};
    WireReader r(bytes);
    EXPECT_EQ(r.u8(), 0x01);
    EXPECT_EQ(r.u16(), 0x0302);
    EXPECT_EQ(r.u32(), 0x07060504u);
    EXPECT_EQ(r.u64(), 0x0f0e0d0c0b0a0908ull);
    EXPECT_EQ(r.str(255), "abc");
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.remaining(), 0u);
    EXPECT_EQ(r.u8(), 0);   // past the end: fails, and stays failed
    EXPECT_FALSE(r.ok());
}

TEST(WireReader, RefusesAStringLongerThanTheMessageOrTheLimit) {
    const std::vector<uint8_t> longer = {0xff, 0xff, 'a'};
    WireReader a(longer);
    EXPECT_EQ(a.str(100000), "");
    EXPECT_FALSE(a.ok());
    const std::vector<uint8_t> over = {4, 0, 'a', 'b', 'c', 'd'};
    WireReader b(over);
    EXPECT_EQ(b.str(3), "");
    EXPECT_FALSE(b.ok());
    EXPECT_EQ(b.remaining(), 0u);
    WireReader c(over);
    EXPECT_TRUE(c.bytes(7).empty());
    EXPECT_FALSE(c.ok());
    const std::vector<uint8_t> half = {1};
    WireReader d(half);
    EXPECT_EQ(d.u16(), 0);
    EXPECT_FALSE(d.ok());
}

TEST(WireWriter, NeverGrowsPastItsCapacity) {
    std::vector<uint8_t> out;
    WireWriter w(out, 10);
    w.u32(0x04030201);
    w.str("ab");
    EXPECT_TRUE(w.ok());
    EXPECT_EQ(out, (std::vector<uint8_t>{1, 2, 3, 4, 2, 0, 'a', 'b'}));
    w.u32(5);   // 12 > 10
    EXPECT_FALSE(w.ok());
    EXPECT_EQ(out.size(), 8u);
    w.u8(1);    // failed: nothing more
    EXPECT_EQ(out.size(), 8u);
    std::vector<uint8_t> big;
    WireWriter s(big, 1 << 20);
    s.str(std::string(70000, 'x'));
    EXPECT_FALSE(s.ok());
}

TEST(WireWriter, ReservesShrinksAndPatches) {
    std::vector<uint8_t> out;
    WireWriter w(out, 16);
    w.u32(0);
    auto room = w.reserve(8);
    ASSERT_EQ(room.size(), 8u);
    room[0] = 0xaa;
    w.shrink(7);
    w.patch_u32(0, 1);
    EXPECT_EQ(out, (std::vector<uint8_t>{1, 0, 0, 0, 0xaa}));
    EXPECT_TRUE(w.reserve(12).empty());
    EXPECT_FALSE(w.ok());
}

} // namespace
} // namespace minivmm::p9
