#include "console/console_spec.hpp"

#include <gtest/gtest.h>

namespace minivmm::console {
namespace {

TEST(ConsoleSpec, ParsesTheThreeHostEnds) {
    auto s = parse_console_spec("stdio");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->kind, ConsoleSpec::Kind::Stdio);
    s = parse_console_spec("file=/tmp/out");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->kind, ConsoleSpec::Kind::File);
    EXPECT_EQ(s->path, "/tmp/out");
    s = parse_console_spec("socket=/run/c.sock");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->kind, ConsoleSpec::Kind::Socket);
    EXPECT_EQ(s->text(), "socket=/run/c.sock");
}

TEST(ConsoleSpec, StdoutAndStderrAreOutputOnlyEnds) {
    auto s = parse_console_spec("stdout");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->kind, ConsoleSpec::Kind::Stdout);
    EXPECT_EQ(s->text(), "stdout");
    s = parse_console_spec("stderr");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->kind, ConsoleSpec::Kind::Stderr);
    EXPECT_EQ(s->text(), "stderr");
    EXPECT_FALSE(parse_console_spec("stdout=x"));
    EXPECT_FALSE(parse_console_spec("STDERR"));
}

TEST(ConsoleSpec, RefusesOtherTextEmptyPathsAndOverlongSocketPaths) {
    for (const char* bad : {"", "stdin", "file=", "socket=", "file:/x", "tcp=1.2.3.4"}) {
        auto s = parse_console_spec(bad);
        ASSERT_FALSE(s) << bad;
        EXPECT_EQ(s.error().code(), ErrorCode::Usage);
    }
    EXPECT_FALSE(parse_console_spec("socket=/" + std::string(107, 'a')));
    EXPECT_TRUE(parse_console_spec("socket=/" + std::string(106, 'a')));
    EXPECT_TRUE(parse_console_spec("file=/" + std::string(300, 'a')));
}

} // namespace
} // namespace minivmm::console
