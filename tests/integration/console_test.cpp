// The serial console through the real minivmm binary: --serial forms, and the terminal on a
// pseudo-terminal (PtyProcess) left exactly as it was after every way out.
// The bad-option tests run anywhere (inputs are checked before /dev/kvm is opened); the others
// need /dev/kvm and skip without it.
#include <cstdlib>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "pty_process.hpp"
#include "run_process.hpp"

namespace {

using minivmm::test::run_process;

// The tests' terminal helper: waiting for text a child that has ended never printed ends when
// the child does (a VM that died in early boot must not keep a test for its whole timeout), and
// leaves the child for finish() to reap. No KVM needed.
TEST(PtyProcess, WaitingForOutputEndsWhenTheChildEnds) {
    minivmm::test::PtyProcess child({"/bin/sh", "-c", "echo started; exit 3"});
    ASSERT_GT(child.pid(), 0);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(child.wait_for_output("never printed", 60000));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
    EXPECT_NE(child.output().find("started"), std::string::npos) << child.output();
    EXPECT_EQ(child.finish(10), 3);
}

// A test that waits in vain for a minivmm child's output asks it for its state report, which
// lands in the output the failure prints (where the guest was: tools/test tells the emulator's
// hangs by it); a child that is not minivmm gets no signal (it would die of it).
TEST(PtyProcess, WaitingInVainOnMinivmmBringsItsStateReport) {
    REQUIRE_KVM();
    minivmm::test::PtyProcess vm({MINIVMM_BINARY, "--demo", "spin", "--timeout", "120"});
    ASSERT_GT(vm.pid(), 0);
    EXPECT_FALSE(vm.wait_for_output("never printed", 3000));
    EXPECT_NE(vm.output().find("minivmm: state after "), std::string::npos) << vm.output();
    EXPECT_NE(vm.output().find("vcpu0: "), std::string::npos) << vm.output();
    EXPECT_NE(vm.output().find("\nserial: "), std::string::npos) << vm.output();
    ASSERT_TRUE(vm.type("\x01x"));
    EXPECT_EQ(vm.finish(60), 130) << vm.output();   // it went on after the report
}

TEST(BackgroundProcess, WaitingInVainOnMinivmmBringsItsStateReport) {
    REQUIRE_KVM();
    minivmm::test::BackgroundProcess vm({MINIVMM_BINARY, "--demo", "spin", "--timeout", "120"});
    ASSERT_GT(vm.pid(), 0);
    EXPECT_FALSE(vm.wait_for_output("never printed", 3000));
    // output(), which failed checks print, has it at once
    const std::string seen = vm.output();
    EXPECT_NE(seen.find("minivmm: state after ", seen.find("--- stderr ---")), std::string::npos)
        << seen;
    const auto r = vm.finish(SIGTERM, 60);   // SIGTERM's own report comes second
    EXPECT_EQ(r.exit_code, 143) << r.err;
    const auto first = r.err.find("minivmm: state after ");
    EXPECT_NE(first, std::string::npos) << r.err;
    EXPECT_LT(first, r.err.find("stopped by SIGTERM")) << r.err;
}

TEST(PtyProcess, WaitingInVainOnAnotherProgramSendsItNothing) {
    minivmm::test::PtyProcess child({"/bin/sh", "-c", "echo started; sleep 2; exit 4"});
    ASSERT_GT(child.pid(), 0);
    EXPECT_FALSE(child.wait_for_output("never printed", 500));
    EXPECT_EQ(child.finish(20), 4) << child.output();   // not ended by a SIGUSR2
}

TEST(Console, BadSerialOptionIsAUsageError) {
    auto r = run_process({MINIVMM_BINARY, "--serial", "tty"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("minivmm: error: --serial 'tty'"), std::string::npos) << r.err;
}

TEST(Console, UnwritableSerialFileIsAnInputError) {
    auto r = run_process({MINIVMM_BINARY, "--serial", "file:/nonexistent-dir/console.log"});
    EXPECT_EQ(r.exit_code, 3);
    EXPECT_NE(r.err.find("Cannot open serial output file /nonexistent-dir/console.log"),
              std::string::npos)
        << r.err;
}

TEST(Console, SerialFileGetsTheOutput) {
    REQUIRE_KVM();
    const std::string path = std::filesystem::temp_directory_path() /
                             ("minivmm-console-" + std::to_string(::getpid()) + ".log");
    auto r = run_process({MINIVMM_BINARY, "--serial", "file:" + path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
    std::stringstream file;
    file << std::ifstream(path).rdbuf();
    EXPECT_NE(file.str().find("Hello from the minivmm demo guest!"), std::string::npos);
    std::filesystem::remove(path);
}

TEST(Console, SerialNoneDiscardsTheOutput) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--serial", "none"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
}

TEST(Console, StdinReachesTheGuestAndItsEchoComesBack) {
    REQUIRE_KVM();
    auto r = run_process({"/bin/sh", "-c",
                          std::string("printf 'abc\\004' | ") + MINIVMM_BINARY + " --demo echo"});
    EXPECT_EQ(r.exit_code, 3) << r.err;   // the echo demo exits with the byte count
    EXPECT_EQ(r.out, "echo demo: type, Ctrl-D ends\nabc");
}

TEST(Console, GuestPoweroffExitsZeroWithAnInfoMessage) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--demo", "poweroff", "--log-level", "info"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("minivmm: info: the guest powered off"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("error"), std::string::npos) << r.err;
    auto quiet = run_process({MINIVMM_BINARY, "--demo", "poweroff"});
    EXPECT_EQ(quiet.exit_code, 0);
    EXPECT_EQ(quiet.err, "") << "info is below the default level";
}

TEST(Console, GuestRebootThroughI8042ExitsZero) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--demo", "reboot", "--log-level", "info"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("the guest rebooted (i8042 reset)"), std::string::npos) << r.err;
}

// Guest output is buffered (SerialOutputBuffer): however the guest ends the VM, its last line
// is out before minivmm's own last words, on one stream as a terminal shows them.
TEST(Console, TheGuestsLastLineComesBeforeMinivmmsLastWords) {
    REQUIRE_KVM();
    struct Case {
        const char* demo;
        const char* guest_last_line;
        const char* minivmm_says;
    };
    const Case cases[] = {
        {"poweroff", "poweroff demo: ACPI S5 through the sleep control register\n",
         "minivmm: info: the guest powered off"},
        {"reboot", "reboot demo: i8042 reset command 0xfe\n", "minivmm: info: the guest rebooted"},
        {"triple-fault", "triple-fault demo: loading an empty IDT and dividing by zero\n",
         "minivmm: error: vcpu0: triple fault"},
    };
    for (const Case& c : cases) {
        auto r = run_process({"/bin/sh", "-c", std::string(MINIVMM_BINARY) + " --demo " + c.demo +
                                                   " --log-level info 2>&1"});
        const size_t line = r.out.find(c.guest_last_line);
        const size_t says = r.out.find(c.minivmm_says);
        ASSERT_NE(line, std::string::npos) << c.demo << ": " << r.out;
        ASSERT_NE(says, std::string::npos) << c.demo << ": " << r.out;
        EXPECT_LT(line, says) << c.demo << ": " << r.out;
    }
}

// A stdout that is a socket (a service's journal): output is sent without waiting, on threads
// whose seccomp filters allow it.
TEST(Console, ASocketStdoutGetsTheOutput) {
    REQUIRE_KVM();
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(sv[0], 1);
        ::execl(MINIVMM_BINARY, MINIVMM_BINARY, "--demo", "hello", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(sv[0]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(sv[1], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(sv[1]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
    EXPECT_NE(out.find("Hello from the minivmm demo guest!"), std::string::npos) << out;
}

// Runs minivmm on a new pseudo-terminal; `act` drives it (PtyProcess) once it is up.
struct PtyRun {
    int exit_code = -1;
    int signal = 0;
    std::string output;
    bool mode_restored = false;
};

template <typename Act>
PtyRun run_on_pty(const std::vector<std::string>& args, Act act) {
    std::vector<std::string> argv{MINIVMM_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    minivmm::test::PtyProcess vm(argv);
    PtyRun run;
    if (vm.pid() <= 0) return run;
    vm.read_for(500);   // let it start and switch the terminal to raw mode
    act(vm);
    run.exit_code = vm.finish(10);
    run.signal = vm.signal();
    run.output = vm.output();
    run.mode_restored = vm.mode_restored();
    return run;
}

TEST(Console, CtrlAXQuitsWith130AndRestoresTheTerminal) {
    REQUIRE_KVM();
    auto r = run_on_pty({"--demo", "spin"}, [](minivmm::test::PtyProcess& vm) {
        ASSERT_TRUE(vm.type("\x01x"));
    });
    EXPECT_EQ(r.exit_code, 130) << r.output;
    EXPECT_TRUE(r.mode_restored);
}

TEST(Console, CtrlCGoesToTheGuestNotToMinivmm) {
    REQUIRE_KVM();
    auto r = run_on_pty({"--demo", "spin", "--timeout", "2"}, [](minivmm::test::PtyProcess& vm) {
        ASSERT_TRUE(vm.type("\x03"));   // raw mode: no SIGINT from the keyboard
    });
    EXPECT_EQ(r.exit_code, 124) << r.output;
    EXPECT_TRUE(r.mode_restored);
}

TEST(Console, SigtermRestoresTheTerminal) {
    REQUIRE_KVM();
    auto r = run_on_pty({"--demo", "spin"}, [](minivmm::test::PtyProcess& vm) { ::kill(vm.pid(), SIGTERM); });
    EXPECT_EQ(r.exit_code, 143) << r.output;
    EXPECT_TRUE(r.mode_restored);
}

TEST(Console, GuestExitRestoresTheTerminal) {
    REQUIRE_KVM();
    auto r = run_on_pty({"--demo", "status"}, [](minivmm::test::PtyProcess&) {});
    EXPECT_EQ(r.exit_code, 42) << r.output;
    EXPECT_TRUE(r.mode_restored);
}

TEST(Console, FatalSignalRestoresTheTerminal) {
    REQUIRE_KVM();
    // In ASan and TSan builds the child's runtime would take SIGBUS itself (a report, exit 1
    // or 66): handle_sigbus=0 leaves it to minivmm's own handler, as in a normal build.
    for (const char* var : {"ASAN_OPTIONS", "TSAN_OPTIONS"}) {
        std::string opts = std::getenv(var) ? std::getenv(var) : "";
        ::setenv(var, (opts + (opts.empty() ? "" : ":") + "handle_sigbus=0").c_str(), 1);
    }
    auto r = run_on_pty({"--demo", "spin"}, [](minivmm::test::PtyProcess& vm) { ::kill(vm.pid(), SIGBUS); });
    EXPECT_EQ(r.signal, SIGBUS);
    EXPECT_TRUE(r.mode_restored);
}

} // namespace
