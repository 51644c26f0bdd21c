// virtio-blk through the real guest path: the bare-metal guest virtio-blk-guest.elf
// (guest-images/demos/virtio_blk_guest.c, CPL 3, polling) drives minivmm's disks over
// virtio-mmio on /dev/kvm (ioeventfd, I/O thread, irqfd), and the test checks the host files.
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "blk_pattern.hpp"
#include "kvm_available.hpp"
#include "run_process.hpp"

namespace {

namespace fs = std::filesystem;
using minivmm::test::BackgroundProcess;
using minivmm::test::run_process;
using namespace minivmm::test::blk;

class BlkGuest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/minivmm-blk-guest-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path image(const std::string& name, uint64_t size, uint8_t fill) {
        fs::path p = dir_ / name;
        write_file(p, std::vector<uint8_t>(size, fill));
        return p;
    }

    std::vector<std::string> vm(const std::vector<std::string>& disks, const std::string& cmdline) {
        std::vector<std::string> argv = {MINIVMM_BINARY, "--kernel", MINIVMM_BLK_GUEST, "--mem",
                                         "64M", "--timeout", "60", "--cmdline", "acpi=off " + cmdline};
        for (const auto& d : disks) argv.insert(argv.end(), {"--disk", d});
        return argv;
    }

    fs::path dir_;
};

TEST_F(BlkGuest, WritesFlushesAndReadsBackOnThreeDisksCheckedInTheHostFiles) {
    REQUIRE_KVM();
    const uint64_t seed = random_seed();
    auto a = image("a.img", 4 << 20, 0xa5);
    auto b = image("b.img", 1 << 20, 0xa5);
    auto c = dir_ / "c.img";   // read-only, holding the pattern the guest must read
    const auto c_bytes = pattern(seed, 2, 0, 1 << 20);
    write_file(c, c_bytes);
    // 300 sectors from sector 3 in requests of 16 sectors, up to 8 in flight.
    auto r = run_process(vm({a.string(), b.string() + ",serial=blk-serial-b", c.string() + ",ro"},
                            "seed=" + std::to_string(seed) + " start=3 sectors=300 chunk=16 depth=8"));
    ASSERT_FALSE(r.timed_out);
    ASSERT_EQ(r.exit_code, 0) << "seed " << seed << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("VBLK-DISK 0 rw capacity=8192 serial=\"\" write=OK flush=OK read=OK"),
              std::string::npos) << r.out;
    EXPECT_NE(r.out.find("VBLK-DISK 1 rw capacity=2048 serial=\"blk-serial-b\" write=OK flush=OK "
                         "read=OK"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("VBLK-DISK 2 ro capacity=2048 serial=\"\" write=IOERR flush=IOERR read=OK"),
              std::string::npos) << r.out;
    EXPECT_NE(r.out.find("VBLK-OK disks=3\n"), std::string::npos) << r.out;

    // The written range holds the pattern, and nothing outside it changed.
    for (unsigned disk = 0; disk < 2; ++disk) {
        auto bytes = read_file(disk == 0 ? a : b);
        ASSERT_EQ(bytes.size(), disk == 0 ? 4u << 20 : 1u << 20);
        EXPECT_EQ(compare(bytes, pattern(seed, disk, 3 * 512, 300 * 512), 3 * 512), "")
            << "disk " << disk << " seed " << seed;
        EXPECT_EQ(compare(bytes, std::vector<uint8_t>(3 * 512, 0xa5), 0), "") << "disk " << disk;
        const uint64_t end = 303 * 512;
        EXPECT_EQ(compare(bytes, std::vector<uint8_t>(bytes.size() - end, 0xa5), end), "")
            << "disk " << disk;
    }
    EXPECT_EQ(read_file(c), c_bytes) << "the read-only image changed";
}

TEST_F(BlkGuest, ReadOnlyDiskAnswersWriteAndFlushWithIoerrAndKeepsItsBytes) {
    REQUIRE_KVM();
    const uint64_t seed = random_seed();
    auto p = dir_ / "ro.img";
    const auto bytes = pattern(seed, 0, 0, 256 << 10);
    write_file(p, bytes);
    auto r = run_process(vm({p.string() + ",ro"}, "seed=" + std::to_string(seed) + " sectors=512"));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("VBLK-DISK 0 ro capacity=512 serial=\"\" write=IOERR flush=IOERR read=OK "
                         "sectors=512"), std::string::npos) << r.out;
    EXPECT_EQ(read_file(p), bytes);
}

TEST_F(BlkGuest, HostileGuestGetsNeedsResetOrRefusalsAndTheVmmStaysAliveAndAnswering) {
    REQUIRE_KVM();
    auto p = image("hostile.img", 1 << 20, 0);
    auto r = run_process(vm({p.string()}, "mode=hostile"));
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.signal, 0);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    // Ring violations: DEVICE_NEEDS_RESET, nothing completed; then a reset and a normal request.
    for (const char* name : {"head-out-of-range", "avail-index-ahead", "queue-size-100",
                             "ring-outside-ram"})
        EXPECT_NE(r.out.find(std::string("VBLK-HOSTILE ") + name +
                             ": NEEDS_RESET, reset, request OK\n"), std::string::npos)
            << name << "\n" << r.out;
    // Broken chains: used with length 0, the status untouched, the queue still working.
    for (const char* name : {"next-loop", "next-out-of-range", "buffer-outside-ram",
                             "buffer-wraps-2^64", "buffer-in-mmio-window", "writable-header",
                             "readable-after-writable", "no-status-byte", "only-zero-length",
                             "indirect-bad-length", "indirect-nested", "indirect-loop"})
        EXPECT_NE(r.out.find(std::string("VBLK-HOSTILE ") + name +
                             ": refused, used length 0, reset, request OK\n"), std::string::npos)
            << name << "\n" << r.out;
    EXPECT_NE(r.out.find("VBLK-HOSTILE zero-length-descriptors: status 0, reset, request OK\n"),
              std::string::npos) << r.out;
    EXPECT_NE(r.out.find("VBLK-HOSTILE read-past-the-end: status 1, reset, request OK\n"),
              std::string::npos) << r.out;
    EXPECT_NE(r.out.find("VBLK-HOSTILE unknown-type: status 2, reset, request OK\n"),
              std::string::npos) << r.out;
    EXPECT_NE(r.out.find("VBLK-HOSTILE-OK cases=19\n"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("virtqueue broken: available head out of range"), std::string::npos)
        << r.err;
}

TEST_F(BlkGuest, DataFlushedBeforeSigkillIsInTheImage) {
    REQUIRE_KVM();
    const uint64_t seed = random_seed();
    auto p = image("durable.img", 4 << 20, 0);
    // 4096 sectors (2 MiB) from sector 100, flushed; then the guest spins.
    BackgroundProcess vm1(vm({p.string()}, "mode=durable seed=" + std::to_string(seed) +
                                               " start=100 sectors=4096"));
    ASSERT_TRUE(vm1.wait_for_output("VBLK-FLUSHED\n", 30000)) << vm1.output();
    auto killed = vm1.finish(SIGKILL, 10);
    ASSERT_EQ(killed.signal, SIGKILL) << killed.out << killed.err;
    auto bytes = read_file(p);
    EXPECT_EQ(compare(bytes, pattern(seed, 0, 100 * 512, 4096 * 512), 100 * 512), "")
        << "seed " << seed;
}

TEST_F(BlkGuest, SecondWriterIsRefusedWhileTheFirstRunsAndAdmittedAfterItDied) {
    REQUIRE_KVM();
    auto p = image("shared.img", 1 << 20, 0);
    BackgroundProcess first(vm({p.string()}, "mode=durable sectors=64"));
    ASSERT_TRUE(first.wait_for_output("VBLK-FLUSHED\n", 30000)) << first.output();
    // A writer and a reader are both refused: the image is held exclusively.
    const std::string line = "minivmm: error: Disk image " + p.string() +
                             " is locked by another process (another minivmm or QEMU using it";
    for (const std::string& spec : {p.string(), p.string() + ",ro"}) {
        auto second = run_process(vm({spec}, ""));
        EXPECT_EQ(second.exit_code, 3) << spec;
        EXPECT_EQ(second.out, "") << spec;
        EXPECT_EQ(second.err, line + (spec == p.string() ? ")\n" : " writable)\n")) << spec;
    }
    first.finish(SIGKILL, 10);   // the lock dies with the process
    auto third = run_process(vm({p.string()}, "sectors=64"));
    EXPECT_EQ(third.exit_code, 0) << third.out << third.err;
    EXPECT_NE(third.out.find("VBLK-OK disks=1\n"), std::string::npos) << third.out;
}

} // namespace
