// libFuzzer target: the command-line parser (vmm/cli: CLI11 into a
// MachineConfig) with random argv, and parse_size against a reference model. Oracles:
//  - no exception escapes, no UB (huge numbers, "-1", "0x..", "128T", odd suffixes);
//  - an error is ErrorCode::Usage or ErrorCode::Input with a non-empty message of one line;
//  - an accepted config is inside the documented limits (--mem, --cpus, --timeout, --cmdline
//    only with --kernel, --kernel xor --demo);
//  - parse_size agrees with a 128-bit reference: digits, then k/M/G/T with "", "B" or "iB".
// '/' is removed from arguments, so a random --kernel can only name a file in the current
// directory (opened read-only, non-blocking, and only its header read), never a device.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "base/log.hpp"
#include "cli/cli.hpp"
#include "memory/layout.hpp"

using namespace minivmm;

namespace {

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) __builtin_trap();                                                             \
    } while (0)

const char* const OPTIONS[] = {"--demo",     "--kernel",   "--cmdline",   "--mem",
                               "--cpus",     "--timeout",  "--log-level", "--trace-exits",
                               "--stats",    "--kvm",      "--seccomp",   "--no-seccomp",
                               "--version",  "--help",     "-h",          "--",
                               "hello",      "spin",       "512M",        "-1"};

// The reference: what parse_size should accept, computed in 128 bits.
bool reference_size(const std::string& s, uint64_t& out) {
    size_t i = 0;
    unsigned __int128 v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        v = v * 10 + static_cast<unsigned>(s[i] - '0');
        if (v > UINT64_MAX) return false;
        ++i;
    }
    if (i == 0) return false;
    unsigned shift = 0;
    if (i < s.size()) {
        switch (s[i]) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        case 't': case 'T': shift = 40; break;
        default: return false;
        }
        std::string unit = s.substr(i + 1);
        if (!unit.empty() && unit != "B" && unit != "iB") return false;
    }
    v <<= shift;
    if (v > UINT64_MAX) return false;
    out = static_cast<uint64_t>(v);
    return true;
}

// What main prints for it is one line, whatever the argument held (control characters escaped).
void check_error(const Error& e) {
    CHECK(e.code() == ErrorCode::Usage || e.code() == ErrorCode::Input);
    CHECK(!e.message().empty());
    std::string line = error_line(e);
    CHECK(line.find('\n') == line.size() - 1);
    for (char c : line) CHECK(static_cast<unsigned char>(c) >= 0x20 || c == '\n');
}

void fuzz_size(FuzzedDataProvider& in) {
    std::string text = in.ConsumeRandomLengthString(40);
    auto r = parse_size(text);
    uint64_t expected = 0;
    bool ok = reference_size(text, expected);
    CHECK(r.has_value() == ok);
    if (r) CHECK(*r == expected);
    else check_error(r.error());
}

void fuzz_argv(FuzzedDataProvider& in) {
    std::vector<std::string> args = {"minivmm"};
    size_t n = in.ConsumeIntegralInRange<size_t>(0, 12);
    for (size_t i = 0; i < n; ++i) {
        std::string a = in.ConsumeBool() ? OPTIONS[in.ConsumeIntegralInRange<size_t>(0, 19)]
                                         : in.ConsumeRandomLengthString(64);
        if (in.ConsumeProbability<float>() < 0.1f) a += "=" + in.ConsumeRandomLengthString(24);
        std::erase(a, '/');
        std::erase(a, '\0');   // argv strings end at the first NUL anyway
        args.push_back(a);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    auto r = parse_command_line(static_cast<int>(args.size()), argv.data());
    set_log_level(LogLevel::Off);
    if (!r) {
        check_error(r.error());
        return;
    }
    if (!r->has_value()) return;   // --help or --version
    const MachineConfig& c = **r;
    CHECK(c.mem_size == 0 || (c.mem_size >= layout::MIN_RAM_SIZE && c.mem_size <= layout::MAX_RAM_SIZE));
    CHECK(c.cpus >= 1 && c.cpus <= 64);
    CHECK(c.timeout_seconds <= MAX_TIMEOUT_SECONDS);
    CHECK(c.cmdline.empty() || c.kernel.has_value());
    CHECK(!c.kernel.has_value() || c.cpus == 1);   // kernels boot on one vCPU for now
    CHECK(c.kernel.has_value() || !c.demo.empty());
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // --help/--version output out of the way.
    int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) ::dup2(null, STDOUT_FILENO);
    set_log_level(LogLevel::Off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    if (in.ConsumeBool()) fuzz_size(in);
    else fuzz_argv(in);
    return 0;
}
