// Pause and resume (Ctrl-a p) of a running bare-metal guest with virtio-blk I/O in flight, on
// a pseudo-terminal as a person would: while paused, two state reports a second apart show no
// progress at all (vCPU exits, ring indexes, serial output) and every disk was flushed; after
// the resume the guest's own checks pass, it exits 0, and the host files hold exactly what it
// wrote. Needs /dev/kvm.
#include <csignal>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "blk_pattern.hpp"
#include "kvm_available.hpp"
#include "pty_process.hpp"
#include "report_progress.hpp"

namespace {

using minivmm::test::PtyProcess;
using minivmm::test::progress_now;
using namespace minivmm::test::blk;

constexpr unsigned DISKS = 4;
constexpr uint64_t SECTORS = 32768;   // 16 MiB a disk, in 512-byte requests: about 1 s each

TEST(Pause, CtrlAPPausesDiskIoInFlightNothingMovesAndNothingIsLost) {
    REQUIRE_KVM();
    char tmpl[] = "/tmp/minivmm-pause-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const fs::path dir = tmpl;
    const uint64_t seed = random_seed();
    std::vector<std::string> argv = {MINIVMM_BINARY, "--kernel", MINIVMM_BLK_GUEST, "--mem", "256M",
                                     "--timeout", "120", "--log-level", "info", "--cmdline",
                                     "acpi=off seed=" + std::to_string(seed) + " sectors=" +
                                         std::to_string(SECTORS) + " chunk=1 depth=2"};
    std::vector<fs::path> images;
    for (unsigned d = 0; d < DISKS; ++d) {
        images.push_back(dir / ("d" + std::to_string(d) + ".img"));
        write_file(images.back(), std::vector<uint8_t>(SECTORS * 512, 0xa5));
        argv.insert(argv.end(), {"--disk", images.back().string()});
    }
    PtyProcess vm(argv);
    ASSERT_GT(vm.pid(), 0);
    ASSERT_TRUE(vm.wait_for_output("VBLK-DISK 0 rw", 30000)) << vm.output();
    vm.read_for(300);   // disk 0's writes under way
    EXPECT_NE(progress_now(vm), "");
    EXPECT_NE(vm.output().find("machine: running"), std::string::npos) << vm.output();
    ASSERT_TRUE(vm.type("\x01p"));
    ASSERT_TRUE(vm.wait_for_output("minivmm: paused", 5000)) << vm.output();
    ASSERT_EQ(vm.output().find("VBLK-OK"), std::string::npos)
        << "the guest finished before the pause: nothing was in flight\n" << vm.output();

    const std::string first = progress_now(vm);
    vm.read_for(1000);
    const std::string second = progress_now(vm);
    EXPECT_NE(vm.output().find("machine: paused"), std::string::npos) << vm.output();
    EXPECT_NE(first.find("vcpu0 "), std::string::npos) << vm.output();
    EXPECT_NE(first.find("  queue 0: size "), std::string::npos) << vm.output();
    EXPECT_EQ(first, second) << "the guest made progress while paused";
    for (const auto& image : images)
        EXPECT_NE(vm.output().find("disk " + image.string() + ": flushed while paused"),
                  std::string::npos) << vm.output();

    ASSERT_TRUE(vm.type("\x01p"));
    ASSERT_TRUE(vm.wait_for_output("minivmm: resumed", 5000)) << vm.output();
    const int status = vm.finish(120);
    EXPECT_EQ(status, 0) << "seed " << seed << "\n" << vm.output();
    EXPECT_NE(vm.output().find("VBLK-OK disks=" + std::to_string(DISKS)), std::string::npos)
        << vm.output();
    for (unsigned d = 0; d < DISKS; ++d)
        EXPECT_EQ(compare(read_file(images[d]), pattern(seed, d, 0, SECTORS * 512), 0), "")
            << "disk " << d << " seed " << seed;
    fs::remove_all(dir);
}

} // namespace
