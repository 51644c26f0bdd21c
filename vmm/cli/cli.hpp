// The command line: CLI11 parsing into a plain MachineConfig, and the program's main logic,
// the only place that turns an Error into a process exit code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "machine/config.hpp"

namespace minivmm {

// --cpus: the most vCPUs minivmm creates (the CPUID topology fields hold up to 64 cores).
constexpr uint32_t MAX_VCPUS = 64;

// --boot-timeout's default with a command (-- CMD): a kernel that has not started the
// runner's init by then will not (nested emulation boots the minimal kernel in about 5 s).
constexpr uint32_t DEFAULT_BOOT_TIMEOUT_SECONDS = 60;

// --timeout's limit: the main thread's poll takes milliseconds in an int (24 days).
constexpr uint32_t MAX_TIMEOUT_SECONDS = 2'147'483;

// "512M", "2G", "65536", "4k", "4KiB", "4KB": bytes. Errors for empty, negative, unknown suffix, overflow.
Result<uint64_t> parse_size(const std::string& text);

// "stdio", "file:PATH" (PATH not empty), "none". Errors are ErrorCode::Usage.
Result<SerialConfig> parse_serial(const std::string& text);

// Parses argv. An empty optional means --help or --version was printed: exit 0.
// Errors are ErrorCode::Usage with CLI11's or our message.
Result<std::optional<MachineConfig>> parse_command_line(int argc, char** argv);

// Checks a --kernel file before anything else starts (missing, not a file, empty, unreadable,
// not a kernel). Returns ErrorCode::Input errors naming the file.
Result<void> check_kernel_file(const std::string& path);

// With a command (-- CMD): --kernel is required, --console stdio is refused (stdout is CMD's),
// and without --serial (SERIAL_GIVEN false) the serial's host end becomes none.
Result<void> check_runner_options(MachineConfig& config, bool serial_given);

// The line printed for a host or usage error: "minivmm: error: <message>\n", always one line.
// Control characters in the message (a file name or an argument may hold a newline) are shown
// escaped ("\n", "\x1b").
std::string error_line(const Error& error);

// The whole program; returns the process exit code (README, "Exit codes").
int minivmm_main(int argc, char** argv);

} // namespace minivmm
