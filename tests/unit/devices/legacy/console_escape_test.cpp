// Unit tests for ConsoleEscape (devices/legacy/console_escape.hpp): the Ctrl-a sequences.
#include "legacy/console_escape.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

constexpr uint8_t CTRL_A = 0x01;
using Action = ConsoleEscape::Action;

struct Run {
    std::string forwarded;
    ConsoleEscape::Filtered result;
};
Run filter(ConsoleEscape& e, const std::string& in) {
    std::vector<uint8_t> bytes(in.begin(), in.end());
    std::vector<uint8_t> out(bytes.size(), 0xee);
    Run r;
    r.result = e.filter(bytes, out);
    r.forwarded.assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(r.result.count));
    return r;
}

TEST(ConsoleEscape, PlainBytesPassThrough) {
    ConsoleEscape e;
    auto r = filter(e, "ls -l\r\x03\x1a");
    EXPECT_EQ(r.forwarded, "ls -l\r\x03\x1a");
    EXPECT_FALSE(r.result.quit);
    EXPECT_FALSE(r.result.help);
}

TEST(ConsoleEscape, CtrlAXQuits) {
    ConsoleEscape e;
    EXPECT_EQ(e.feed(CTRL_A), Action::Swallow);
    EXPECT_TRUE(e.pending_escape());
    EXPECT_EQ(e.feed('x'), Action::Quit);
    EXPECT_FALSE(e.pending_escape());
}

TEST(ConsoleEscape, CtrlAPIsCountedEachTimeAndFilteringGoesOn) {
    ConsoleEscape e;
    EXPECT_EQ(e.feed(CTRL_A), Action::Swallow);
    EXPECT_EQ(e.feed('p'), Action::Pause);
    auto r = filter(e, "a\x01pb\x01pc");
    EXPECT_EQ(r.result.pauses, 2u);
    EXPECT_EQ(r.forwarded, "abc");
    EXPECT_NE(std::string(ConsoleEscape::HELP).find("C-a p"), std::string::npos);
}

TEST(ConsoleEscape, QuitStopsFilteringAndKeepsEarlierBytes) {
    ConsoleEscape e;
    auto r = filter(e, "ab\x01xcd");
    EXPECT_TRUE(r.result.quit);
    EXPECT_EQ(r.forwarded, "ab");
}

TEST(ConsoleEscape, DoubleCtrlASendsOne) {
    ConsoleEscape e;
    auto r = filter(e, "\x01\x01");
    EXPECT_EQ(r.forwarded, "\x01");
    EXPECT_FALSE(r.result.quit);
    r = filter(e, "\x01\x01\x01\x01x");
    EXPECT_EQ(r.forwarded, "\x01\x01x");
    EXPECT_FALSE(r.result.quit) << "the x follows a completed pair: it is data";
}

TEST(ConsoleEscape, SequenceMaySpanReads) {
    ConsoleEscape e;
    auto r = filter(e, "a\x01");
    EXPECT_EQ(r.forwarded, "a");
    EXPECT_TRUE(e.pending_escape());
    r = filter(e, "x");
    EXPECT_TRUE(r.result.quit);
}

TEST(ConsoleEscape, HelpIsReportedNotForwarded) {
    ConsoleEscape e;
    for (const char* seq : {"\x01h", "\x01?", "\x01H"}) {
        auto r = filter(e, seq);
        EXPECT_TRUE(r.result.help) << seq;
        EXPECT_EQ(r.forwarded, "");
    }
}

TEST(ConsoleEscape, UnknownCommandIsDropped) {
    ConsoleEscape e;
    auto r = filter(e, "\x01q!");
    EXPECT_EQ(r.forwarded, "!");
    EXPECT_FALSE(r.result.quit);
}

TEST(ConsoleEscape, XWithoutEscapeIsForwarded) {
    ConsoleEscape e;
    auto r = filter(e, "xx");
    EXPECT_EQ(r.forwarded, "xx");
    EXPECT_FALSE(r.result.quit);
}

TEST(ConsoleEscape, NeverEmitsMoreThanItReads) {
    ConsoleEscape e;
    std::string in;
    for (int i = 0; i < 256; ++i) in += static_cast<char>(i % 3 == 0 ? CTRL_A : i);
    auto r = filter(e, in);
    EXPECT_LE(r.result.count, in.size());
}

} // namespace
} // namespace minivmm
