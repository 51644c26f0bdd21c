// Linux paused for 5 s through the management API (`minivmm ctl`, which needs nothing but
// minivmm itself, so it runs inside tools/kvm-in-qemu too): while paused, state reports 5 s
// apart show no progress and the API says "Paused"; after the resume the shell answers, and the
// kernel's log has no soft-lockup warning (the pause was told to kvmclock). Needs a full Linux
// (VT-x/AMD-V, or tools/kvm-in-qemu on PVM hosts).
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "blk_pattern.hpp"
#include "linux_images.hpp"
#include "pty_process.hpp"
#include "report_progress.hpp"
#include "run_process.hpp"

namespace {

using namespace minivmm::test;

TEST(LinuxGuestApi, PausedFiveSecondsThroughTheApiWithoutASoftLockup) {
    REQUIRE_FULL_LINUX();
    char tmpl[] = "/tmp/minivmm-linux-api-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const blk::fs::path dir = tmpl;
    const std::string sock = (dir / "api.sock").string();
    PtyProcess vm(linux_shell_with_api(sock));
    ASSERT_GT(vm.pid(), 0);
    ASSERT_TRUE(vm.wait_for_output("starting a shell", 240000)) << vm.output();
    ASSERT_TRUE(vm.wait_for_output("# ", 30000)) << vm.output();
    // Something that keeps running: a loop printing the guest's uptime every 200 ms.
    ASSERT_TRUE(vm.type("while sleep 0.2; do cut -d' ' -f1 /proc/uptime; done &\r"));
    vm.read_for(1000);

    auto pause = run_process({MINIVMM_BINARY, "ctl", sock, "pause"}, 30);
    ASSERT_EQ(pause.exit_code, 0) << pause.err << vm.output();
    auto status = run_process({MINIVMM_BINARY, "ctl", sock, "status"}, 30);
    EXPECT_NE(status.out.find("\"state\": \"Paused\""), std::string::npos) << status.out;
    const std::string first = progress_now(vm);
    vm.read_for(5000);
    const std::string second = progress_now(vm);
    EXPECT_NE(first.find("vcpu0 "), std::string::npos) << vm.output();
    EXPECT_EQ(first, second) << "the guest made progress while paused";
    auto resume = run_process({MINIVMM_BINARY, "ctl", sock, "resume"}, 30);
    ASSERT_EQ(resume.exit_code, 0) << resume.err;
    vm.read_for(1000);
    ASSERT_TRUE(vm.type("kill %1; dmesg | grep -ci 'soft lo[c]kup'; echo CHECKED-$((40+2))\r"));
    ASSERT_TRUE(vm.wait_for_output("CHECKED-42", 30000)) << vm.output();
    // grep's count, 0, on a line of its own ("\r\n" or "\r\r\n": the guest's tty and the pty's).
    EXPECT_NE(vm.output().find("\n0\r"), std::string::npos) << vm.output();
    EXPECT_EQ(vm.output().find("soft lockup"), std::string::npos) << vm.output();
    auto stop = run_process({MINIVMM_BINARY, "ctl", sock, "stop"}, 30);
    EXPECT_EQ(stop.exit_code, 0) << stop.err;
    EXPECT_EQ(vm.finish(60), 0) << vm.output();
    EXPECT_FALSE(blk::fs::exists(sock));
    blk::fs::remove_all(dir);
}

} // namespace
