// Logging with levels, to stderr. `MINIVMM_LOG=debug` or --log-level selects the level.
#pragma once

#include <fmt/format.h>

namespace minivmm {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();
bool parse_log_level(const std::string& text, LogLevel& out);
void log_line(LogLevel level, const std::string& message);

template <typename... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (level < log_level()) return;
    log_line(level, fmt::format(format, std::forward<Args>(args)...));
}

// Breaks an internal invariant: logs and aborts. Never for guest mistakes.
[[noreturn]] void assert_fail(const char* expr, const char* file, int line);
#define MINIVMM_ASSERT(expr)                                                                       \
    do {                                                                                           \
        if (!(expr)) ::minivmm::assert_fail(#expr, __FILE__, __LINE__);                            \
    } while (0)

} // namespace minivmm
