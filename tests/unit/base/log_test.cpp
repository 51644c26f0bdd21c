// Unit tests for the logging helpers (vmm/base/log.hpp): level names and filtering.
#include "base/log.hpp"

#include <string>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

// Restores the process-wide log level when the test ends.
class LevelGuard {
public:
    LevelGuard() : saved_(log_level()) {}
    ~LevelGuard() { set_log_level(saved_); }
    LevelGuard(const LevelGuard&) = delete;
    LevelGuard& operator=(const LevelGuard&) = delete;

private:
    LogLevel saved_;
};

struct NamedLevel {
    const char* text;
    LogLevel level;
};

TEST(ParseLogLevel, AcceptsEveryDocumentedName) {
    const NamedLevel names[] = {{"debug", LogLevel::Debug}, {"info", LogLevel::Info},
                                {"warning", LogLevel::Warn}, {"warn", LogLevel::Warn},
                                {"error", LogLevel::Error},  {"off", LogLevel::Off}};
    for (const auto& n : names) {
        LogLevel out = n.level == LogLevel::Off ? LogLevel::Debug : LogLevel::Off;
        EXPECT_TRUE(parse_log_level(n.text, out)) << n.text;
        EXPECT_EQ(out, n.level) << n.text;
    }
}

TEST(ParseLogLevel, RejectsUnknownNamesAndLeavesOutputUnchanged) {
    for (const char* text : {"", "DEBUG", "Info", "warnings", "err", "trace", "2", " info"}) {
        LogLevel out = LogLevel::Error;
        EXPECT_FALSE(parse_log_level(text, out)) << '"' << text << '"';
        EXPECT_EQ(out, LogLevel::Error) << '"' << text << '"';
    }
}

TEST(LogLevel, SetIsReadBack) {
    LevelGuard guard;
    set_log_level(LogLevel::Debug);
    EXPECT_EQ(log_level(), LogLevel::Debug);
    set_log_level(LogLevel::Off);
    EXPECT_EQ(log_level(), LogLevel::Off);
}

TEST(Log, MessagesBelowLevelAreDropped) {
    LevelGuard guard;
    set_log_level(LogLevel::Warn);
    ::testing::internal::CaptureStderr();
    log(LogLevel::Info, "hidden {}", 1);
    log(LogLevel::Warn, "shown {}", 2);
    log(LogLevel::Error, "shown {}", 3);
    std::string out = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(out, "minivmm: warning: shown 2\nminivmm: error: shown 3\n");
}

TEST(Log, OffSilencesErrors) {
    LevelGuard guard;
    set_log_level(LogLevel::Off);
    ::testing::internal::CaptureStderr();
    log(LogLevel::Error, "should not appear");
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

} // namespace
} // namespace minivmm
