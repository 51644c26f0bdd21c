// SBX-02 on a KVM host: every ending of a VM (guest status, triple fault with the register dump,
// timeout kick, SIGTERM, a PVH kernel, --trace-exits and --stats output) runs under --seccomp
// without a violation (exit 148 and "forbidden system call" would say which call). These are
// the tests that validate the allow-lists; once they pass on a KVM host, --seccomp becomes the
// default. They skip without /dev/kvm.
#include <csignal>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "run_process.hpp"

namespace {

using minivmm::test::run_process;

void expect_no_violation(const minivmm::test::ProcessResult& r) {
    EXPECT_FALSE(r.timed_out);
    EXPECT_NE(r.exit_code, 148) << r.err;
    EXPECT_EQ(r.signal, 0) << r.err;
    EXPECT_EQ(r.err.find("forbidden system call"), std::string::npos) << r.err;
}

// The output minus the `long` demo's TSC-ticks line, which varies from run to run.
std::string without_timing(const std::string& out) {
    std::string kept;
    size_t start = 0;
    while (start < out.size()) {
        size_t end = out.find('\n', start);
        end = end == std::string::npos ? out.size() : end + 1;
        std::string line = out.substr(start, end - start);
        if (line.find("TSC ticks") == std::string::npos) kept += line;
        start = end;
    }
    return kept;
}

TEST(Seccomp, DemoGuestsEndAsWithoutFilters) {
    REQUIRE_KVM();
    struct Case {
        std::vector<std::string> args;
        int code;
    };
    const Case cases[] = {
        {{"--demo", "hello"}, 0},
        {{"--demo", "status"}, 42},
        {{"--demo", "long"}, 0},
        {{"--demo", "ports", "--stats"}, 0},
        {{"--demo", "hello", "--trace-exits"}, 0},
        {{"--demo", "triple-fault"}, 120},
        {{"--demo", "spin", "--timeout", "1"}, 124},
    };
    for (const auto& c : cases) {
        std::vector<std::string> argv = {MINIVMM_BINARY, "--seccomp"};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        auto with = run_process(argv, 60);
        expect_no_violation(with);
        EXPECT_EQ(with.exit_code, c.code) << c.args[1] << "\n" << with.err;
        argv.erase(argv.begin() + 1);
        auto without = run_process(argv, 60);
        EXPECT_EQ(without_timing(with.out), without_timing(without.out)) << c.args[1];
    }
}

TEST(Seccomp, SigtermStopsAConfinedVm) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--seccomp", "--demo", "spin"}, 30, SIGTERM, 500);
    expect_no_violation(r);
    EXPECT_EQ(r.exit_code, 143) << r.err;
}

TEST(Seccomp, PvhKernelBootsConfined) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--seccomp", "--kernel", MINIVMM_PVH_GUEST, "--mem", "64M",
                          "--cmdline", "status=7"});
    expect_no_violation(r);
    EXPECT_EQ(r.exit_code, 7) << r.err;
}

} // namespace
