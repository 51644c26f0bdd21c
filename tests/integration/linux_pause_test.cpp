// Linux paused and resumed from its console while it writes to a disk: a shell on a terminal
// writes 32 MiB of a known pattern to a raw virtio-blk disk; Ctrl-a p pauses the VM twice
// during the write (state reports a second apart show the rings unmoved) and resumes it; the
// write and its sync then complete, the kernel reports no soft lockup, and the host's image
// holds the pattern. Needs a full Linux (VT-x/AMD-V, or tools/kvm-in-qemu on PVM hosts).
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "blk_pattern.hpp"
#include "linux_images.hpp"
#include "pty_process.hpp"
#include "report_progress.hpp"

namespace {

using namespace minivmm::test;

constexpr size_t BYTES = 32 << 20;
const std::string LINE = "minivmm-pause-data\n";   // what `yes minivmm-pause-data` repeats

TEST(LinuxGuestPause, CtrlAPTwiceDuringADiskWriteLosesNothing) {
    REQUIRE_FULL_LINUX();
    char tmpl[] = "/tmp/minivmm-linux-pause-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const blk::fs::path dir = tmpl;
    const blk::fs::path disk = dir / "scratch.img";
    blk::write_file(disk, std::vector<uint8_t>(BYTES + (1 << 20), 0));
    PtyProcess vm({MINIVMM_BINARY, "--kernel", (images_dir() / "kernel/bzImage").string(),
                   "--initrd", (images_dir() / "initramfs/initramfs.cpio.gz").string(),
                   "--disk", disk.string(), "--timeout", "600", "--cmdline",
                   "console=ttyS0 minivmm.action=shell minivmm.disk=none"});
    ASSERT_GT(vm.pid(), 0);
    ASSERT_TRUE(vm.wait_for_output("starting a shell", 240000)) << vm.output();
    ASSERT_TRUE(vm.wait_for_output("# ", 30000)) << vm.output();
    ASSERT_TRUE(vm.type("yes minivmm-pause-data | head -c " + std::to_string(BYTES) +
                        " > /dev/vda; sync; echo WROTE-$((40+2))\r"));
    for (int round = 0; round < 2; ++round) {
        vm.read_for(1500);   // the write under way
        ASSERT_EQ(vm.output().find("WROTE-42"), std::string::npos)
            << "the write ended before pause " << round << ": nothing was in flight";
        size_t from = vm.output().size();
        ASSERT_TRUE(vm.type("\x01p"));
        ASSERT_TRUE(vm.wait_for_output("minivmm: paused", 10000, from)) << vm.output();
        const std::string first = progress_now(vm);
        vm.read_for(1000);
        const std::string second = progress_now(vm);
        EXPECT_NE(first.find("  queue 0: size "), std::string::npos) << vm.output();
        EXPECT_EQ(first, second) << "progress while paused, round " << round;
        from = vm.output().size();
        ASSERT_TRUE(vm.type("\x01p"));
        ASSERT_TRUE(vm.wait_for_output("minivmm: resumed", 10000, from)) << vm.output();
    }
    EXPECT_TRUE(vm.wait_for_output("WROTE-42", 300000)) << vm.output();
    ASSERT_TRUE(vm.type("\x01x"));
    EXPECT_EQ(vm.finish(60), 130) << vm.output();
    EXPECT_EQ(vm.output().find("soft lockup"), std::string::npos) << vm.output();
    const auto bytes = blk::read_file(disk);
    ASSERT_GE(bytes.size(), BYTES);
    std::string want;
    while (want.size() < BYTES) want += LINE;
    EXPECT_EQ(blk::compare(bytes, std::vector<uint8_t>(want.begin(), want.begin() + BYTES), 0), "");
    blk::fs::remove_all(dir);
}

} // namespace
