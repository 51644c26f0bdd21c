// Restore with overrides and refusals (README, "Managing a VM"): the virtio-blk guest, with a
// card on a unix stream socket, is snapshotted with disk I/O in flight; a restore with --disk
// and --net puts it on a copy of its disk (the original zeroed: reads from it would fail the
// guest's check) and on another socket (which minivmm connects to), and the guest finishes its
// pattern on the copy. Before that, restores that do not fit the snapshot are refused with one
// error line each, exit code 3 as the state file's faults (2 for an option --restore never
// takes): the recorded disk missing, an image of another size, more --disk than the snapshot
// has, a writable disk made read-only. VMs whose state a snapshot cannot hold (a --share, a
// card on passt) are refused at snapshot time. Needs /dev/kvm.
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "blk_pattern.hpp"
#include "kvm_available.hpp"
#include "snapshot_steps.hpp"
#include "temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace minivmm::test;

// A listening unix stream socket at `path`, or -1.
int listen_unix(const fs::path& path) {
    int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.string().copy(a.sun_path, sizeof a.sun_path - 1);
    if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(s, 4) < 0) {
        ::close(s);
        return -1;
    }
    return s;
}

// Whether a client connects to `listener` within `ms`.
bool connected_within(int listener, int ms) {
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, ms) != 1) return false;
    int c = ::accept(listener, nullptr, nullptr);
    if (c >= 0) ::close(c);
    return c >= 0;
}

// A restore that must be refused: exit `code` and exactly one line, an error containing `why`.
void expect_refused(const std::vector<std::string>& argv, int code, const std::string& why) {
    auto r = run_process(argv, 30);
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("minivmm: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
}

TEST(Snapshot, OverridesMoveDisksAndCardsAndWhatDoesNotFitIsRefused) {
    REQUIRE_KVM();
    using namespace minivmm::test::blk;
    TempDir dir("minivmm-snapshot-override");
    constexpr uint64_t SECTORS = 131072;   // 64 MiB in 512-byte requests: a few seconds
    const fs::path image = dir.path / "disk.img", copy = dir.path / "copy.img";
    const fs::path out1 = dir.path / "out1", out2 = dir.path / "out2";
    const fs::path sock1 = dir.path / "api1", sock2 = dir.path / "api2";
    const fs::path net1 = dir.path / "net1", net2 = dir.path / "net2";
    const int listen1 = listen_unix(net1), listen2 = listen_unix(net2);
    ASSERT_GE(listen1, 0);
    ASSERT_GE(listen2, 0);
    write_file(image, std::vector<uint8_t>(SECTORS * 512, 0xa5));
    const uint64_t seed = random_seed();
    BackgroundProcess first({MINIVMM_BINARY, "--kernel", MINIVMM_BLK_GUEST, "--mem", "256M",
                             "--timeout", "120", "--api-socket", sock1.string(),
                             "--serial", "file:" + out1.string(), "--disk", image.string(),
                             "--net", "stream=" + net1.string(),
                             "--cmdline", "acpi=off seed=" + std::to_string(seed) +
                                              " sectors=" + std::to_string(SECTORS) +
                                              " chunk=1 depth=2"});
    ASSERT_TRUE(connected_within(listen1, 10000));
    ASSERT_TRUE(wait_for_socket(sock1, 10000));
    ASSERT_TRUE(wait_for_file_text(out1, "VBLK-DISK 0 rw", 30000)) << file_bytes(out1);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));   // writes under way
    pause_and_snapshot(sock1, dir.path);
    first.finish(SIGKILL, 30);
    ASSERT_EQ(file_bytes(out1).find("read=OK"), std::string::npos) << "nothing was in flight";

    auto restore = [&](std::vector<std::string> more) {
        std::vector<std::string> argv = {MINIVMM_BINARY, "--restore", dir.path.string(),
                                         "--serial", "none", "--timeout", "5"};
        argv.insert(argv.end(), more.begin(), more.end());
        return argv;
    };
    fs::rename(image, copy);
    expect_refused(restore({}), 3, "Cannot open disk image " + image.string());
    fs::rename(copy, image);
    const fs::path small = dir.path / "small.img";
    write_file(small, std::vector<uint8_t>(1 << 20, 0));
    expect_refused(restore({"--disk", small.string()}), 3,
                   "virtio-blk0 (" + small.string() + "): the disk image is 1048576 bytes "
                   "(2048 sectors), the snapshot's disk had 131072 sectors");
    expect_refused(restore({"--disk", image.string(), "--disk", small.string()}), 3,
                   "Restore override --disk " + small.string() +
                       " is for the snapshot's --disk device #2, and it has 1");
    expect_refused(restore({"--disk", small.string() + ",ro"}), 3, "is writable");
    expect_refused(restore({"--net", "stream=" + net2.string(), "--net", "tap9"}), 3,
                   "--net device #2, and it has 1");
    expect_refused(restore({"--rng"}), 2, "--rng cannot be given with --restore");
    EXPECT_FALSE(connected_within(listen2, 0)) << "a refused restore connected the new socket";

    // The guest's writes before the snapshot are only on the copy now: a restore that read
    // the original would fail its read-back.
    fs::copy_file(image, copy);
    write_file(image, std::vector<uint8_t>(SECTORS * 512, 0));
    BackgroundProcess second({MINIVMM_BINARY, "--restore", dir.path.string(), "--timeout", "120",
                              "--api-socket", sock2.string(), "--serial",
                              "file:" + out2.string(), "--disk", copy.string(), "--net",
                              "stream=" + net2.string()});
    EXPECT_TRUE(connected_within(listen2, 10000)) << "the card is not on the override's socket";
    check_paused_then_resume(sock2, out2);
    auto r = second.finish(0, 120);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err << file_bytes(out2);
    EXPECT_NE(file_bytes(out2).find("VBLK-OK disks=1"), std::string::npos) << file_bytes(out2);
    EXPECT_EQ(compare(read_file(copy), pattern(seed, 0, 0, SECTORS * 512), 0), "") << "seed " << seed;
    EXPECT_EQ(compare(read_file(image), std::vector<uint8_t>(SECTORS * 512, 0), 0), "");
    ::close(listen1);
    ::close(listen2);
}

// `args` run with an API socket; pausing works, the snapshot is refused with `why`.
void expect_snapshot_refused(const fs::path& dir, std::vector<std::string> args,
                             const std::string& why) {
    const fs::path sock = dir / "api";
    std::vector<std::string> argv = {MINIVMM_BINARY, "--timeout", "60", "--api-socket",
                                     sock.string(), "--serial", "none"};
    argv.insert(argv.end(), args.begin(), args.end());
    BackgroundProcess vm(argv);
    ASSERT_TRUE(wait_for_socket(sock, 10000));
    auto paused = ctl(sock, {"pause"});
    ASSERT_EQ(paused.exit_code, 0) << paused.err;
    auto snap = ctl(sock, {"snapshot", (dir / "snap").string()});
    EXPECT_EQ(snap.exit_code, 1);
    EXPECT_EQ(std::count(snap.err.begin(), snap.err.end(), '\n'), 1) << snap.err;
    EXPECT_NE(snap.err.find(why), std::string::npos) << snap.err;
    EXPECT_FALSE(fs::exists(dir / "snap" / "vm.state"));
    auto stop = ctl(sock, {"stop"});
    EXPECT_EQ(stop.exit_code, 0) << stop.err;
    vm.finish(0, 30);
}

TEST(Snapshot, AVmWithAShareIsRefusedAtSnapshotTime) {
    REQUIRE_KVM();
    TempDir dir("minivmm-snapshot-share");
    fs::create_directory(dir.path / "shared");
    expect_snapshot_refused(dir.path, {"--demo", "count", "--share", (dir.path / "shared").string()},
                            "snapshot failed: snapshots of the command runner or of --share "
                            "directories are not supported");
}

TEST(Snapshot, AVmWithACardOnPasstIsRefusedAtSnapshotTime) {
    REQUIRE_KVM();
    if (!fs::exists("/usr/bin/passt")) GTEST_SKIP() << "needs passt (/usr/bin/passt) for --net user";
    TempDir dir("minivmm-snapshot-passt");
    expect_snapshot_refused(dir.path, {"--demo", "count", "--net", "user"},
                            "snapshot failed: a card on --net user cannot be snapshotted");
}

} // namespace
