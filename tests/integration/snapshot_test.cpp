// Snapshot and restore end to end (README, "Managing a VM"): a guest paused through the API
// (`minivmm ctl`), written to a state and a memory file, its process killed, and a new minivmm
// started from the files (--restore, paused) and resumed. The count demo keeps a nonce only in
// its RAM and prints a counter: the two runs' serial output joined is exactly one run's (the
// same nonce, no line lost or repeated, not a reboot). The virtio-blk guest is paused with disk
// I/O in flight: after the restore its requests complete and the disk holds its pattern. A
// corrupted state file, a state file from another CPU (CPUID) and a memory file of the wrong
// size are refused with one line. Needs /dev/kvm.
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "blk_pattern.hpp"
#include "kvm_available.hpp"
#include "linux_images.hpp"
#include "run_process.hpp"
#include "snapshot/snapshot_codec.hpp"
#include "snapshot_steps.hpp"
#include "temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace minivmm::test;

std::string expected_count_output(const std::string& nonce) {
    std::string out = "count demo: nonce " + nonce + "\n";
    for (int n = 1; n <= 300; ++n)
        out += "count " + std::to_string(n) + " nonce " + nonce + "\n";
    return out + "count done nonce " + nonce + "\n";
}

TEST(Snapshot, CountingDemoRestoredInANewProcessGoesOnWithItsNonce) {
    REQUIRE_KVM();
    TempDir dir("minivmm-snapshot");
    const fs::path out1 = dir.path / "out1", out2 = dir.path / "out2";
    const fs::path sock1 = dir.path / "api1", sock2 = dir.path / "api2";
    BackgroundProcess first({MINIVMM_BINARY, "--demo", "count", "--timeout", "120",
                             "--api-socket", sock1.string(), "--serial", "file:" + out1.string()});
    ASSERT_TRUE(wait_for_socket(sock1, 10000));
    ASSERT_TRUE(wait_for_file_text(out1, "count 20 ", 60000)) << file_bytes(out1);
    pause_and_snapshot(sock1, dir.path);
    auto ended = first.finish(SIGKILL, 30);
    EXPECT_EQ(ended.signal, SIGKILL);
    const std::string before = file_bytes(out1);
    ASSERT_EQ(before.find("count done"), std::string::npos) << "the guest finished before the snapshot";

    BackgroundProcess second(restore_argv(dir.path, sock2, out2));
    check_paused_then_resume(sock2, out2);
    auto r = second.finish(0, 120);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string after = file_bytes(out2);
    EXPECT_EQ(after.find("count demo:"), std::string::npos) << "a reboot, not a restore:\n" << after;
    const size_t at = before.find("nonce ");
    ASSERT_NE(at, std::string::npos);
    const std::string nonce = before.substr(at + 6, 16);
    EXPECT_EQ(before + after, expected_count_output(nonce)) << "before:\n" << before << "\nafter:\n" << after;
}

// Three snapshots in a chain, each restored VM snapshotted again (to new files: the memory file
// it was restored from is refused, it is the RAM's backing), the guest's output still one run's.
TEST(Snapshot, ThreeChainedSnapshotsOfRestoredVmsLoseNothing) {
    REQUIRE_KVM();
    TempDir dir("minivmm-snapshot-chain");
    std::vector<fs::path> outs;
    std::string all;
    std::optional<BackgroundProcess> vm;
    for (int cycle = 0; cycle <= 3; ++cycle) {
        const fs::path here = dir.path / std::to_string(cycle);
        fs::create_directory(here);
        const fs::path sock = here / "api", out = here / "out";
        if (cycle == 0)
            vm.emplace(std::vector<std::string>{MINIVMM_BINARY, "--demo", "count",
                                                "--timeout", "120", "--api-socket", sock.string(),
                                                "--serial", "file:" + out.string()});
        else
            vm.emplace(restore_argv(dir.path / std::to_string(cycle - 1), sock, out));
        if (cycle > 0) check_paused_then_resume(sock, out);
        if (cycle == 3) {
            auto r = vm->finish(0, 120);
            EXPECT_EQ(r.exit_code, 0) << r.err;
            all += file_bytes(out);
            break;
        }
        ASSERT_TRUE(wait_for_socket(sock, 10000));
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        auto paused = ctl(sock, {"pause"});
        ASSERT_EQ(paused.exit_code, 0) << paused.err;
        if (cycle > 0) {
            const fs::path from = dir.path / std::to_string(cycle - 1) / "vm.mem";
            auto refused = ctl(sock, {"snapshot", (here / "vm.state").string(), from.string()});
            EXPECT_EQ(refused.exit_code, 1);
            EXPECT_NE(refused.err.find("is the memory file this VM was restored from"),
                      std::string::npos) << refused.err;
        }
        pause_and_snapshot(sock, here);
        vm->finish(SIGKILL, 30);
        all += file_bytes(out);
        ASSERT_EQ(all.find("count done"), std::string::npos) << "the guest ended in cycle " << cycle;
    }
    const size_t at = all.find("nonce ");
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(all, expected_count_output(all.substr(at + 6, 16))) << all;
}

TEST(Snapshot, VirtioBlkGuestPausedWithIoInFlightFinishesAfterRestore) {
    REQUIRE_KVM();
    using namespace minivmm::test::blk;
    TempDir dir("minivmm-snapshot-blk");
    constexpr uint64_t SECTORS = 131072;   // 64 MiB in 512-byte requests: a few seconds
    const fs::path image = dir.path / "disk.img", out1 = dir.path / "out1", out2 = dir.path / "out2";
    const fs::path sock1 = dir.path / "api1", sock2 = dir.path / "api2";
    write_file(image, std::vector<uint8_t>(SECTORS * 512, 0xa5));
    const uint64_t seed = random_seed();
    BackgroundProcess first({MINIVMM_BINARY, "--kernel", MINIVMM_BLK_GUEST, "--mem", "256M",
                             "--timeout", "120", "--api-socket", sock1.string(),
                             "--serial", "file:" + out1.string(), "--disk", image.string(),
                             "--cmdline", "acpi=off seed=" + std::to_string(seed) +
                                              " sectors=" + std::to_string(SECTORS) +
                                              " chunk=1 depth=2"});
    ASSERT_TRUE(wait_for_socket(sock1, 10000));
    ASSERT_TRUE(wait_for_file_text(out1, "VBLK-DISK 0 rw", 30000)) << file_bytes(out1);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));   // writes under way
    pause_and_snapshot(sock1, dir.path);
    first.finish(SIGKILL, 30);
    // The disk's line ends with read=OK once its writes and reads are done: not yet.
    ASSERT_EQ(file_bytes(out1).find("read=OK"), std::string::npos) << "nothing was in flight\n" << file_bytes(out1);

    BackgroundProcess second(restore_argv(dir.path, sock2, out2));
    check_paused_then_resume(sock2, out2);
    auto r = second.finish(0, 120);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err << file_bytes(out2);
    EXPECT_NE(file_bytes(out2).find("VBLK-OK disks=1"), std::string::npos) << file_bytes(out2);
    EXPECT_EQ(compare(read_file(image), pattern(seed, 0, 0, SECTORS * 512), 0), "") << "seed " << seed;
}

TEST(Snapshot, CorruptStateOtherCpuAndWrongSizeMemoryAreRefusedWithOneLine) {
    REQUIRE_KVM();
    TempDir dir("minivmm-snapshot-bad");
    const fs::path out = dir.path / "out", sock = dir.path / "api";
    BackgroundProcess vm({MINIVMM_BINARY, "--demo", "count", "--timeout", "60",
                          "--api-socket", sock.string(), "--serial", "file:" + out.string()});
    ASSERT_TRUE(wait_for_socket(sock, 10000));
    ASSERT_TRUE(wait_for_file_text(out, "count 2 ", 30000));
    auto running = ctl(sock, {"snapshot", (dir.path / "s").string(), (dir.path / "m").string()});
    EXPECT_EQ(running.exit_code, 1);
    EXPECT_NE(running.err.find("not paused"), std::string::npos) << running.err;
    pause_and_snapshot(sock, dir.path);
    vm.finish(SIGKILL, 30);

    const std::string state = (dir.path / "vm.state").string(), mem = (dir.path / "vm.mem").string();
    auto restore = [&](const std::string& s, const std::string& m) {
        return run_process({MINIVMM_BINARY, "--restore", s + "," + m,
                            "--serial", "none", "--timeout", "5"}, 30);
    };
    std::string bytes = file_bytes(state);
    bytes[bytes.size() / 2] ^= 0x40;
    const fs::path bad = dir.path / "bad-state";
    std::ofstream(bad, std::ios::binary) << bytes;
    auto corrupt = restore(bad.string(), mem);
    EXPECT_NE(corrupt.exit_code, 0);
    EXPECT_NE(corrupt.err.find("CRC"), std::string::npos) << corrupt.err;
    // A valid file from another CPU: one CPUID bit changed, the CRC made right again.
    const std::string raw = file_bytes(state);
    auto decoded = minivmm::decode_snapshot(
        std::span(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
    ASSERT_TRUE(decoded) << decoded.error().message();
    ASSERT_GE(decoded->cpuid.size(), 2u);
    decoded->cpuid[1].ecx ^= 1;
    const auto forged = minivmm::encode_snapshot(*decoded);
    const fs::path other_cpu = dir.path / "other-cpu-state";
    std::ofstream(other_cpu, std::ios::binary)
        .write(reinterpret_cast<const char*>(forged.data()), static_cast<std::streamsize>(forged.size()));
    auto cpu = restore(other_cpu.string(), mem);
    EXPECT_NE(cpu.exit_code, 0);
    EXPECT_NE(cpu.err.find("The snapshot was taken on another CPU: CPUID leaf"), std::string::npos)
        << cpu.err;
    fs::resize_file(dir.path / "vm.mem", fs::file_size(dir.path / "vm.mem") - 4096);
    auto short_mem = restore(state, mem);
    EXPECT_NE(short_mem.exit_code, 0);
    EXPECT_NE(short_mem.err.find("bytes, the snapshot's RAM is"), std::string::npos) << short_mem.err;
}

} // namespace
