#include "base/log.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace minivmm {

namespace {
std::atomic<LogLevel> g_level{LogLevel::Warn};
const char* const LEVEL_NAMES[] = {"debug", "info", "warning", "error", "off"};
} // namespace

void set_log_level(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }
LogLevel log_level() { return g_level.load(std::memory_order_relaxed); }

bool parse_log_level(const std::string& text, LogLevel& out) {
    for (int i = 0; i <= static_cast<int>(LogLevel::Off); ++i) {
        if (text == LEVEL_NAMES[i] || (i == 2 && text == "warn")) {
            out = static_cast<LogLevel>(i);
            return true;
        }
    }
    return false;
}

void log_line(LogLevel level, const std::string& message) {
    // One fprintf per line so lines from different threads do not interleave.
    std::fprintf(stderr, "minivmm: %s: %s\n", LEVEL_NAMES[static_cast<int>(level)],
                 message.c_str());
}

void assert_fail(const char* expr, const char* file, int line) {
    std::fprintf(stderr, "minivmm: internal error: assertion '%s' failed at %s:%d\n", expr, file,
                 line);
    std::abort();
}

} // namespace minivmm
