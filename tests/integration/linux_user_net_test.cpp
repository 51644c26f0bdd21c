// Linux's virtio_net on --net user (passt started by minivmm), run by an unprivileged user:
// DHCP from passt, 16 MiB (and, in a second test, 32 KiB) fetched from a server on the host's
// loopback through passt's gateway mapping (checksummed), passt listening on the port a hostfwd forwards, and passt
// killed under an open connection (one line from minivmm, the guest's carrier drops,
// minivmm does not hang). The host end runs in a private network and mount namespace made by
// a child of the test: passt copies its addresses from a tap nobody uses there; minivmm runs
// as uid 65534 with a /dev/kvm node of its own bind-mounted over the real one (only in that
// mount namespace) and its kernel and initramfs copied to a tmpfs it can read.
// Needs root (namespaces), passt, hardware virtualisation (tools/test runs it inside
// tools/kvm-in-qemu elsewhere) and the images of guest-images/.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "linux_images.hpp"
#include "net_host_end.hpp"
#include "run_process.hpp"

namespace {

namespace fs = std::filesystem;
using namespace minivmm::test;

// The big fetch; the small one stays under the 64 KiB from which Debian 12's passt breaks the
// stream inside tools/kvm-in-qemu (why_not_here), so DHCP, the unprivileged user, the forward
// and passt's death are checked there too.
constexpr size_t BIG_BYTES = 16u << 20, SMALL_BYTES = 32u << 10;
// What the host end sends (set before the host end's child is forked).
size_t g_bytes = BIG_BYTES;
constexpr uint16_t DATA_PORT = 5010, FWD_HOST_PORT = 5011, DONE_PORT = 5012, GUEST_PORT = 8080;
constexpr uid_t NOBODY = 65534;


// Whether something listens on the host's loopback port (a connection is accepted).
bool loopback_accepts(uint16_t port) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = s >= 0 && ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (s >= 0) ::close(s);
    return ok;
}

// The passt minivmm `vm` started (its child named passt), or -1.
pid_t passt_of(pid_t vm) {
    for (const auto& e : fs::directory_iterator("/proc")) {
        std::ifstream stat(e.path() / "stat");
        std::string pid, comm, state;
        pid_t ppid = 0;
        if (stat >> pid >> comm >> state >> ppid && ppid == vm && comm == "(passt)")
            return static_cast<pid_t>(std::stoi(pid));
    }
    return -1;
}

// Whether the root of this mount namespace is the rootfs (an initramfs's root, as inside
// tools/kvm-in-qemu).
bool root_is_rootfs() {
    std::ifstream in("/proc/self/mountinfo");
    for (std::string line; std::getline(in, line);) {
        std::istringstream f(line);
        std::string id, parent, devno, root, point;
        f >> id >> parent >> devno >> root >> point;
        if (point != "/") continue;
        const size_t dash = line.find(" - ");
        return dash != std::string::npos && line.compare(dash + 3, 7, "rootfs ") == 0;
    }
    return false;
}

// A VM that ended is reaped here; its status is kept for the end.
bool vm_running(pid_t vm, int& status) {
    return ::waitpid(vm, &status, WNOHANG) == 0;
}

void sh(const std::string& command) {
    if (std::system(command.c_str()) != 0) std::printf("HOST-END: failed: %s\n", command.c_str());
}

// In its own namespaces: the tap passt copies addresses from, the unprivileged user's files and
// /dev/kvm, the servers, minivmm as uid 65534; then the forwarded port, the guest's signal,
// passt killed.
[[noreturn]] void run_user_host_end(const std::string& cmdline) {
    if (::unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) ::_exit(77);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) ::_exit(77);
    // passt sandboxes itself with pivot_root, which the rootfs refuses (no parent mount); as
    // switch_root does, a bind mount of it is moved over it (in this namespace) and made the root.
    if (root_is_rootfs() &&
        (::mkdir("/tmp/minivmm-root", 0700) < 0 ||
         ::mount("/", "/tmp/minivmm-root", nullptr, MS_BIND | MS_REC, nullptr) < 0 ||
         ::chdir("/tmp/minivmm-root") < 0 || ::mount(".", "/", nullptr, MS_MOVE, nullptr) < 0 ||
         ::chroot(".") < 0 || ::chdir("/") < 0)) {
        std::printf("HOST-END: cannot give passt a root it can pivot from: %s\n",
                    std::strerror(errno));
        ::_exit(80);
    }
    sh("/usr/sbin/ip link set lo up && /usr/sbin/ip tuntap add dev mvusr0 mode tap && "
       "/usr/sbin/ip addr add 10.0.2.15/24 dev mvusr0 && /usr/sbin/ip link set mvusr0 up && "
       "/usr/sbin/ip route add default via 10.0.2.2 dev mvusr0 onlink");

    char dir[] = "/tmp/minivmm-usernet-XXXXXX";
    if (!::mkdtemp(dir) || ::mount("tmpfs", dir, "tmpfs", 0, "mode=0755") < 0) ::_exit(78);
    const std::string kernel = std::string(dir) + "/bzImage", initrd = std::string(dir) + "/initrd";
    fs::copy_file(images_dir() / "kernel/bzImage", kernel);
    fs::copy_file(images_dir() / "initramfs/initramfs.cpio.gz", initrd);
    ::chmod(kernel.c_str(), 0644);
    ::chmod(initrd.c_str(), 0644);
    struct stat kvm{};
    const std::string node = std::string(dir) + "/kvm";
    if (::stat("/dev/kvm", &kvm) < 0 || ::mknod(node.c_str(), S_IFCHR | 0600, kvm.st_rdev) < 0 ||
        ::chown(node.c_str(), NOBODY, NOBODY) < 0 ||
        ::mount(node.c_str(), "/dev/kvm", nullptr, MS_BIND, nullptr) < 0) {
        std::printf("HOST-END: cannot give uid %u a /dev/kvm: %s\n", NOBODY, std::strerror(errno));
        ::_exit(79);
    }

    int data = listen_tcp("127.0.0.1", DATA_PORT), done = listen_tcp("127.0.0.1", DONE_PORT);
    std::atomic<bool> finished{false};
    std::thread sender([data, &finished] {
        // (In steps, so that a guest that died before connecting does not keep the test
        // waiting for the whole 300 s.)
        int c = -1;
        for (int i = 0; i < 300 && c < 0 && !finished; ++i) c = accept_within(data, 1);
        send_stream(c, g_bytes);
        // The connection stays open: passt is killed under it.
        for (int i = 0; i < 600 && !finished; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        if (c >= 0) ::close(c);
    });

    pid_t vm = ::fork();
    if (vm == 0) {
        if (::setgroups(0, nullptr) < 0 || ::setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
            ::setresuid(NOBODY, NOBODY, NOBODY) < 0)
            ::_exit(126);
        ::execl(MINIVMM_BINARY, MINIVMM_BINARY, "--kernel", kernel.c_str(), "--initrd",
                initrd.c_str(), "--mem", "256M", "--net",
                ("user,hostfwd=tcp:127.0.0.1:" + std::to_string(FWD_HOST_PORT) + "-:" +
                 std::to_string(GUEST_PORT)).c_str(),
                "--log-level", "info", "--timeout", "400", "--cmdline", cmdline.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // Each wait below ends when the VM does: a guest that failed early must not keep the
    // test for minutes.
    int st = 0;
    bool reaped = false;
    int c = -1;
    for (int i = 0; i < 300 && c < 0 && !reaped; ++i) {
        c = accept_within(done, 1);
        if (c < 0 && !vm_running(vm, st)) reaped = true;
    }
    char buf[64] = {};
    if (c >= 0) {
        (void)!::recv(c, buf, sizeof buf - 1, MSG_WAITALL);
        ::close(c);
    }
    std::printf("GUEST-SIGNAL %s", buf);
    // minivmm has long exec'd by now: the user it runs as.
    std::ifstream status("/proc/" + std::to_string(vm) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("Uid:", 0) == 0) std::printf("VM-%s\n", line.c_str());
    // The hostfwd reached passt: it listens on the host port. (That a connection there
    // reaches the guest is not checked: Debian 12's passt, 2023-03-09, ignores the guest's
    // SYN-ACK on forwarded connections; README, "Networking".)
    std::printf("FORWARD-LISTENING %s\n", loopback_accepts(FWD_HOST_PORT) ? "yes" : "no");
    const pid_t passt = reaped ? -1 : passt_of(vm);
    if (passt > 0 && ::kill(passt, SIGKILL) == 0) std::printf("KILLED-PASST %d\n", passt);
    std::fflush(stdout);
    if (!reaped) ::waitpid(vm, &st, 0);
    finished = true;
    sender.join();
    ::umount2("/dev/kvm", MNT_DETACH);
    ::umount2(dir, MNT_DETACH);
    ::rmdir(dir);
    ::_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

std::optional<std::string> why_not_here(bool big) {
    // On hosts without VT-x/AMD-V, tools/test leaves the big fetch out of its kvm-in-qemu run:
    // there Debian 12's passt hands the guest a stream shifted by four bytes from about 64 KiB
    // on, and QEMU in minivmm's place gets the same (tools/passt-stream-qemu; README,
    // "Networking").
    if (auto why = big ? full_linux_unavailable(
                             "tools/test does not run this test inside tools/kvm-in-qemu, where "
                             "Debian 12's passt breaks the stream it sends the guest (QEMU's "
                             "guest too: tools/passt-stream-qemu)")
                       : full_linux_unavailable())
        return why;
    if (::geteuid() != 0) return "needs root for network and mount namespaces";
    if (std::system("command -v passt >/dev/null 2>&1") != 0)
        return "passt is not installed (Debian package passt; tools/test installs it)";
    return std::nullopt;
}

void check_user_net(size_t bytes) {
    g_bytes = bytes;
    const std::string cmdline = "console=ttyS0 minivmm.action=poweroff minivmm.usernet=10.0.2.2:" +
                                std::to_string(DATA_PORT) + ":" + std::to_string(bytes);
    HostEnd r = run_host_end_child(run_user_host_end, cmdline);
    if (r.exit_code == 77) GTEST_SKIP() << "cannot make network and mount namespaces (unshare)";
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string sha = run_process({"/bin/sh", "-c", "yes minivmm | head -c " +
                                         std::to_string(bytes) + " | sha256sum"})
                                .out.substr(0, 64);
    for (const std::string& seen :
         {std::string("VM-Uid:\t65534\t65534\t65534\t65534"), std::string("MINIVMM-DHCP-OK "),
          "MINIVMM-USERNET-RX " + sha + " " + std::to_string(bytes),
          std::string("FORWARD-LISTENING yes\n"),
          std::string("GUEST-SIGNAL rx-done\n"), std::string("KILLED-PASST "),
          std::string("MINIVMM-USERNET-LINKDOWN"), std::string("MINIVMM-POWEROFF")})
        EXPECT_TRUE(has(r.out, seen)) << seen << "\n" << r.out << r.err;
    EXPECT_TRUE(has(r.err, "virtio-net: passt (pid ")) << r.err;
    EXPECT_TRUE(has(r.err, "vanished")) << r.err;
}

TEST(LinuxGuestUserNet, DhcpLoopbackFetchForwardedPortAndPasstKilledAsAnUnprivilegedUser) {
    REQUIRE_KVM();
    if (auto why = why_not_here(true)) GTEST_SKIP() << *why;
    check_user_net(BIG_BYTES);
}

// The same with 32 KiB: what runs inside tools/kvm-in-qemu.
TEST(LinuxGuestUserNet, DhcpSmallFetchForwardedPortAndPasstKilledAsAnUnprivilegedUser) {
    REQUIRE_KVM();
    if (auto why = why_not_here(false)) GTEST_SKIP() << *why;
    check_user_net(SMALL_BYTES);
}

} // namespace
