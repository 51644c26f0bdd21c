// The command line: CLI11 parsing into a plain MachineConfig, and the program's main logic,
// the only place that turns an Error into a process exit code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "machine/config.hpp"

namespace minivmm {

// --cpus: the most vCPUs minivmm creates (the CPUID topology fields hold up to 64 cores).
constexpr uint32_t MAX_VCPUS = 64;

// "512M", "2G", "65536", "4k": bytes. Errors for empty, negative, unknown suffix, overflow.
Result<uint64_t> parse_size(const std::string& text);

// "stdio", "file:PATH" (PATH not empty), "none". Errors are ErrorCode::Usage.
Result<SerialConfig> parse_serial(const std::string& text);

// "PATH[,ro][,serial=ID]" (--disk). ErrorCode::Usage for an empty path, an unknown option or
// a serial longer than 20 bytes; the file itself is checked when the machine opens it.
Result<DiskConfig> parse_disk_option(const std::string& text);

// Parses argv. An empty optional means --help or --version was printed: exit 0.
// Errors are ErrorCode::Usage with CLI11's or our message.
Result<std::optional<MachineConfig>> parse_command_line(int argc, char** argv);

// Parses the --net specs into config.nets (ErrorCode::Usage for a bad spec, a tap or a MAC given
// twice). Nothing is opened here: Machine::create opens the taps.
Result<void> parse_net_options(const std::vector<std::string>& texts, MachineConfig& config);

// Checks a --kernel file before anything else starts (missing, not a file, empty, unreadable,
// not a kernel). Returns ErrorCode::Input errors naming the file.
Result<void> check_kernel_file(const std::string& path);

// The whole program; returns the process exit code (README, "Exit codes").
int minivmm_main(int argc, char** argv);

} // namespace minivmm
