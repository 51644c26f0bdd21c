// StateWriter and StateReader: values and nested sections round-trip; a wrong tag, an unknown
// version, a section longer than what is left, a read past the end and bytes left over are
// each refused.
#include "base/state_reader.hpp"
#include "base/state_writer.hpp"

#include <gtest/gtest.h>

namespace minivmm {
namespace {

constexpr uint32_t OUTER = state_tag("OUTR");
constexpr uint32_t INNER = state_tag("INNR");

std::vector<uint8_t> sample() {
    StateWriter w;
    w.begin_section(OUTER, 2);
    w.u8(0x12);
    w.u16(0x3456);
    w.begin_section(INNER, 1);
    w.u64(0x0102030405060708ULL);
    w.end_section();
    w.u32(0xdeadbeef);
    w.end_section();
    return w.take();
}

TEST(StateReader, ReadsBackWhatTheWriterWrote) {
    const auto bytes = sample();
    ASSERT_EQ(bytes.size(), 12u + 1 + 2 + 12 + 8 + 4);
    EXPECT_EQ(bytes[0], 'O');   // the tag's first character in the low byte
    StateReader in(bytes);
    auto outer = in.section(OUTER, 2, "outer");
    ASSERT_TRUE(outer) << outer.error().message();
    EXPECT_EQ(outer->version, 2);
    StateReader r(outer->fields);
    EXPECT_EQ(r.u8(), 0x12);
    EXPECT_EQ(r.u16(), 0x3456);
    auto inner = r.section(INNER, 1, "inner");
    ASSERT_TRUE(inner);
    StateReader ri(inner->fields);
    EXPECT_EQ(ri.u64(), 0x0102030405060708ULL);
    EXPECT_TRUE(ri.finish("inner"));
    EXPECT_EQ(r.u32(), 0xdeadbeefu);
    EXPECT_TRUE(r.finish("outer"));
    EXPECT_TRUE(in.finish("all"));
}

TEST(StateReader, RefusesWrongTagNewerVersionAndOverlongSection) {
    const auto bytes = sample();
    {
        StateReader in(bytes);
        EXPECT_FALSE(in.section(INNER, 2, "x"));
    }
    {
        StateReader in(bytes);
        EXPECT_FALSE(in.section(OUTER, 1, "x")) << "version 2 read by a version-1 reader";
    }
    for (size_t n = 0; n < bytes.size(); ++n) {
        StateReader in(std::span<const uint8_t>(bytes).first(n));
        EXPECT_FALSE(in.section(OUTER, 2, "x")) << n << " bytes";
    }
}

TEST(StateReader, ReadPastTheEndOrBytesLeftOverFailFinish) {
    const uint8_t three[] = {1, 2, 3};
    StateReader past(three);
    EXPECT_EQ(past.u16(), 0x0201);
    EXPECT_EQ(past.u16(), 0) << "a read past the end gives 0";
    EXPECT_TRUE(past.failed());
    EXPECT_EQ(past.u8(), 0) << "and the reader stays failed";
    EXPECT_FALSE(past.finish("x"));
    StateReader left(three);
    left.u8();
    EXPECT_FALSE(left.finish("x"));
}

TEST(StateReader, BlobReadsBackAndRefusesALengthPastItsBoundOrTheEnd) {
    StateWriter w;
    const uint8_t data[] = {1, 2, 3};
    w.blob(data);
    const auto bytes = w.take();
    StateReader ok(bytes);
    auto got = ok.blob(3);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[2], 3);
    EXPECT_TRUE(ok.finish("x"));
    StateReader bound(bytes);
    EXPECT_TRUE(bound.blob(2).empty());
    EXPECT_FALSE(bound.finish("x"));
    StateReader cut{std::span<const uint8_t>(bytes).first(bytes.size() - 1)};
    EXPECT_TRUE(cut.blob(3).empty());
    EXPECT_FALSE(cut.finish("x"));
}

} // namespace
} // namespace minivmm
