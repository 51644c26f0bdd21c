// virtio-rng read by Linux's own driver (virtio_rng, the hw_random core): the minimal kernel
// and initramfs of guest-images/ with --rng; /init (minivmm.hwrng=BYTES) reads /dev/hwrng and
// prints how many bytes it got, how many distinct byte values they hold and the hw_random
// core's current source. Needs hardware virtualisation, like the LinuxGuest suites (tools/test
// runs it inside tools/kvm-in-qemu on hosts without it).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "linux_images.hpp"
#include "run_process.hpp"

namespace {

using minivmm::test::has;
using minivmm::test::images_dir;

TEST(LinuxGuestRng, LinuxReadsHwrngFromTheHostThroughVirtioRng) {
    REQUIRE_FULL_LINUX();
    const int timeout_s = 120;
    auto r = minivmm::test::run_process(
        {MINIVMM_BINARY, "--kernel", (images_dir() / "kernel/bzImage").string(), "--initrd",
         (images_dir() / "initramfs/initramfs.cpio.gz").string(), "--mem", "256M", "--timeout",
         std::to_string(timeout_s), "--rng", "--stats", "--cmdline",
         "console=ttyS0 minivmm.action=poweroff minivmm.disk=none minivmm.hwrng=65536"},
        timeout_s + 30);
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "minivmm-init: virtio virtio0 device-id 0x0004 driver virtio_rng"))
        << r.out;
    // 64 KiB of random bytes hold every byte value (the chance one is missing is 256 * e^-256).
    EXPECT_TRUE(has(r.out, "MINIVMM-HWRNG-OK 65536 256 virtio_rng.0")) << r.out;
    EXPECT_TRUE(has(r.out, "MINIVMM-POWEROFF")) << r.out;
}

} // namespace
