// Linux snapshotted at its shell and restored in a new minivmm: the shell answered before the
// pause, the VM is paused through the API, written to files and its process killed; a new
// minivmm restores it (paused), `ctl resume` runs it, and the same shell answers a new command
// on the console (the UART's and the irqchip's state came along), with no soft lockup. Needs a
// full Linux (VT-x/AMD-V, or tools/kvm-in-qemu on PVM hosts).
#include <csignal>
#include <string>

#include <gtest/gtest.h>

#include "linux_images.hpp"
#include "pty_process.hpp"
#include "run_process.hpp"
#include "temp_dir.hpp"
#include "wait_for_socket.hpp"

namespace {

using namespace minivmm::test;

int ctl(const std::filesystem::path& socket, std::vector<std::string> args) {
    std::vector<std::string> argv = {MINIVMM_BINARY, "ctl", socket.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, 60).exit_code;
}

TEST(LinuxGuestSnapshot, TheShellAnswersAfterSnapshotKillRestoreAndResume) {
    REQUIRE_FULL_LINUX();
    TempDir dir("minivmm-linux-snapshot");
    const auto sock1 = dir.path / "api1", sock2 = dir.path / "api2";
    const std::string state = (dir.path / "state").string(), mem = (dir.path / "mem").string();
    PtyProcess first(linux_shell_with_api(sock1.string()));
    ASSERT_GT(first.pid(), 0);
    ASSERT_TRUE(first.wait_for_output("starting a shell", 240000)) << first.output();
    ASSERT_TRUE(first.wait_for_output("# ", 30000)) << first.output();
    ASSERT_TRUE(first.type("echo BEFORE-$((40+2))\r"));
    ASSERT_TRUE(first.wait_for_output("BEFORE-42", 60000)) << first.output();
    ASSERT_EQ(ctl(sock1, {"pause"}), 0);
    ASSERT_EQ(ctl(sock1, {"snapshot", state, mem}), 0) << first.output();
    ::kill(first.pid(), SIGKILL);
    first.finish(30);

    PtyProcess second({MINIVMM_BINARY, "--restore", state + "," + mem,
                       "--api-socket", sock2.string(), "--timeout", "600"});
    ASSERT_TRUE(wait_for_socket(sock2, 30000)) << second.output();
    ASSERT_EQ(ctl(sock2, {"resume"}), 0) << second.output();
    ASSERT_TRUE(second.type("echo AFTER-$((40+3))\r"));
    EXPECT_TRUE(second.wait_for_output("AFTER-43", 120000)) << second.output();
    ASSERT_TRUE(second.type("exit\r"));
    EXPECT_EQ(second.finish(120), 0) << second.output();
    EXPECT_EQ(second.output().find("soft lockup"), std::string::npos) << second.output();
}

} // namespace
