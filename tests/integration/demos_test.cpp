// Runs each built-in demo guest through the real minivmm binary on /dev/kvm and checks its
// exact output and exit status, and the --trace-exits and --stats reports.
#include <cpuid.h>
#include <csignal>
#include <cstring>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "run_process.hpp"

namespace {

using minivmm::test::run_process;

std::string host_cpu_vendor() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    __get_cpuid(0, &a, &b, &c, &d);
    char v[13];
    std::memcpy(v, &b, 4);
    std::memcpy(v + 4, &d, 4);
    std::memcpy(v + 8, &c, 4);
    v[12] = 0;
    return v;
}

size_t count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
        ++n;
    return n;
}

TEST(Demos, DefaultDemoPrintsGreetingAndExitsZero) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY});
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::regex expected(
        "Hello from the minivmm demo guest!\n"
        "port I/O: this line reached you through OUT instructions to the UART at 0x3f8\n"
        "CPUID: vendor \"" + host_cpu_vendor() + "\", max leaf 0x[0-9a-f]{2}\n"
        "MMIO: scratch device id 0x4d4d564d, wrote 0xc0ffee42 and read it back\n"
        "HLT: the vCPU halted, minivmm saw the exit and resumed it\n"
        "Bye: writing 0 to the exit-status port 0x510\n");
    EXPECT_TRUE(std::regex_match(r.out, expected)) << r.out;
    EXPECT_EQ(r.err, "");
}

TEST(Demos, HelloByNameMatchesDefault) {
    REQUIRE_KVM();
    auto by_default = run_process({MINIVMM_BINARY});
    auto by_name = run_process({MINIVMM_BINARY, "--demo", "hello"});
    EXPECT_EQ(by_name.exit_code, 0);
    EXPECT_EQ(by_name.out, by_default.out);
}

TEST(Demos, LongModeDemoReachesCpl3AndComputesNatively) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--demo", "long"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // The same 50,000,000 LCG steps computed here, independently of the guest.
    uint64_t x = 1;
    for (uint64_t i = 0; i < 50000000ull; ++i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        __asm__ volatile("" : "+r"(x));
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(x));
    EXPECT_NE(r.out.find("64-bit mode with our own page tables, CPL 0\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("now in user mode, CPL 3\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(std::string("50000000 LCG steps at CPL 3, result 0x") + hex),
              std::string::npos)
        << r.out;
}

TEST(Demos, StatusDemoExitStatusIsExact) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--demo", "status"});
    EXPECT_EQ(r.exit_code, 42);
    EXPECT_EQ(r.out, "status demo: exiting with status 42\n");
    EXPECT_EQ(r.err, "");
}

TEST(Demos, TripleFaultIsReportedWithRegistersAndCode120) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--demo", "triple-fault"});
    EXPECT_EQ(r.exit_code, 120);
    EXPECT_NE(r.err.find("minivmm: error: vcpu0: triple fault (KVM_EXIT_SHUTDOWN)"),
              std::string::npos)
        << r.err;
    // The registers are printed. Their values are the host's business: Intel leaves the
    // faulting state (idt=0/0, the empty IDT the demo loaded), AMD's KVM resets the vCPU when
    // it intercepts the shutdown (rip=fff0, idt=0/ffff).
    EXPECT_NE(r.err.find("rip="), std::string::npos) << r.err;
    EXPECT_TRUE(r.err.find("idt=0/0\n") != std::string::npos ||
                r.err.find("rip=000000000000fff0") != std::string::npos)
        << r.err;
    // Registers of the reset state come with a line saying so, and only they.
    EXPECT_EQ(r.err.find("the vCPU's reset state, not the state at the fault") != std::string::npos,
              r.err.find("rip=000000000000fff0") != std::string::npos)
        << r.err;
    // The last exits come after the registers (on AMD the only trace of where the guest was):
    // the demo's message, whose last byte is its newline, then the shutdown itself.
    EXPECT_NE(r.err.find("last 16 exits of vcpu0 (of "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("vcpu0 IO out port=0x3f8 size=1 value=0xa -> serial\n  -0 ms vcpu0 SHUTDOWN"),
              std::string::npos)
        << r.err;
}

TEST(Demos, TraceExitsShowsEveryIoExitWithDevice) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--demo", "status", "--trace-exits"});
    EXPECT_EQ(r.exit_code, 42);
    const std::string message = "status demo: exiting with status 42\n";
    // One OUT to the THR per character, each preceded by an LSR poll.
    EXPECT_EQ(count(r.err, "vcpu0 IO out port=0x3f8 size=1 value="), message.size()) << r.err;
    EXPECT_EQ(count(r.err, "vcpu0 IO in port=0x3fd size=1 value=0x60 -> serial\n"), message.size());
    EXPECT_NE(r.err.find("vcpu0 IO out port=0x3f8 size=1 value=0x73 -> serial\n"),
              std::string::npos);   // 's'
    std::string last = "vcpu0 IO out port=0x510 size=1 value=0x2a -> exit-port\n";
    ASSERT_GE(r.err.size(), last.size());
    EXPECT_EQ(r.err.substr(r.err.size() - last.size()), last);
}

TEST(Demos, TraceExitsShowsMmioAndHlt) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--trace-exits"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.err.find("vcpu0 MMIO read addr=0xd0000000 size=4 value=0x4d4d564d -> scratch\n"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("vcpu0 MMIO write addr=0xd0000004 size=4 value=0xc0ffee42 -> scratch\n"),
              std::string::npos);
    EXPECT_NE(r.err.find("vcpu0 MMIO read addr=0xd0000004 size=4 value=0xc0ffee42 -> scratch\n"),
              std::string::npos);
    EXPECT_EQ(count(r.err, "vcpu0 HLT\n"), 1u);
}

TEST(Demos, StatsCountUnhandledPortWrites) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--demo", "ports", "--stats"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.err.find("minivmm: exit statistics"), std::string::npos) << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.err, m, std::regex("\n  unhandled +([0-9]+) ")));
    EXPECT_EQ(m[1], "100000");
    EXPECT_NE(r.err.find("unhandled accesses: 100000 port-I/O, 0 MMIO"), std::string::npos);
    ASSERT_TRUE(std::regex_search(r.err, m, std::regex("\n  exit-port +([0-9]+) ")));
    EXPECT_EQ(m[1], "1");
}

TEST(Demos, TimeoutStopsAGuestThatNeverEnds) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--demo", "spin", "--timeout", "1"}, 30);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 124);
    EXPECT_NE(r.err.find("minivmm: error: timeout: stopped after 1 s"), std::string::npos) << r.err;
}

TEST(Demos, SigtermStopsTheVmWithCode143) {
    REQUIRE_KVM();
    // The signal must arrive after minivmm blocked it (its first steps): 2 s leaves room for a
    // slow, emulated host (tools/kvm-in-qemu), where start-up alone can take over 0.5 s.
    auto r = run_process({MINIVMM_BINARY, "--demo", "spin"}, 30, SIGTERM, 2000);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 143);
    EXPECT_NE(r.err.find("stopped by SIGTERM"), std::string::npos) << r.err;
}

TEST(Demos, SigintStopsTheVmWithCode130) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--demo", "spin"}, 30, SIGINT, 2000);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 130);
    EXPECT_NE(r.err.find("stopped by SIGINT"), std::string::npos) << r.err;
}

} // namespace
