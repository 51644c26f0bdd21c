// The state report that explains a hang: printed when --timeout, SIGTERM or SIGINT stops the VM
// and on SIGUSR2 while it runs. The guests hang on purpose: pvh-hello with "hang" halts with
// interrupts off in hang_with_interrupts_off(), whose name comes from the ELF's own symbols.
// Needs /dev/kvm.
#include <csignal>
#include <string>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "run_process.hpp"

namespace {

using minivmm::test::BackgroundProcess;
using minivmm::test::run_process;

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(StateReport, ATimeoutSaysWhereTheHaltedVcpuIsAndWhy) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--kernel", MINIVMM_PVH_GUEST, "--cmdline", "hang",
                          "--timeout", "2"}, 30);
    ASSERT_FALSE(r.timed_out) << r.err;
    EXPECT_EQ(r.exit_code, 124) << r.err;
    EXPECT_TRUE(has(r.out, "pvh: hanging with interrupts off")) << r.out;
    EXPECT_TRUE(has(r.err, "minivmm: error: timeout: stopped after 2 s\nstate after 2.")) << r.err;
    // In-kernel irqchip (a kernel was given): the HLT waits inside KVM.
    EXPECT_TRUE(has(r.err, "vcpu0: halted (HLT, waiting for an interrupt); in KVM_RUN;")) << r.err;
    EXPECT_TRUE(has(r.err, "<hang_with_interrupts_off+0x")) << r.err;
    EXPECT_TRUE(has(r.err, "cpl 0, protected mode (32-bit)")) << r.err;
    EXPECT_TRUE(has(r.err, "(interrupts off)")) << r.err;
    EXPECT_TRUE(has(r.err, "\n  lapic 0")) << r.err;
    EXPECT_TRUE(has(r.err, "\n  events: none\n")) << r.err;
    EXPECT_TRUE(has(r.err, "\nserial: ")) << r.err;
}

TEST(StateReport, Sigusr2PrintsTheStateAndTheGuestGoesOn) {
    REQUIRE_KVM();
    BackgroundProcess vm({MINIVMM_BINARY, "--demo", "spin", "--timeout", "60"});
    ASSERT_GT(vm.pid(), 0);
    ASSERT_TRUE(vm.wait_for_output("spin demo: running", 20000)) << vm.output();
    ASSERT_EQ(::kill(vm.pid(), SIGUSR2), 0);
    ASSERT_TRUE(vm.wait_for_output("vcpu0: runnable", 10000)) << "no report after SIGUSR2";
    // Still running: the exit count keeps growing between two reports.
    ASSERT_EQ(::kill(vm.pid(), SIGUSR2), 0);
    auto r = vm.finish(SIGTERM, 20);
    EXPECT_EQ(r.exit_code, 143) << r.err;
    EXPECT_TRUE(has(r.err, "minivmm: state after ")) << r.err;
    EXPECT_TRUE(has(r.err, "(IO)")) << "the spin demo's last exit is its port write: " << r.err;
    EXPECT_TRUE(has(r.err, "stopped by SIGTERM\nstate after ")) << r.err;
    // Three reports: two on request, one at the stop.
    size_t reports = 0;
    for (size_t at = r.err.find("vcpu0: "); at != std::string::npos; at = r.err.find("vcpu0: ", at + 1))
        ++reports;
    EXPECT_EQ(reports, 3u) << r.err;
}

TEST(StateReport, SigintStopsWithAReportToo) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--demo", "spin"}, 30, SIGINT, 1500);
    EXPECT_EQ(r.exit_code, 130) << r.err;
    EXPECT_TRUE(has(r.err, "stopped by SIGINT\nstate after ")) << r.err;
    EXPECT_TRUE(has(r.err, "vcpu0: runnable")) << r.err;
}

} // namespace
