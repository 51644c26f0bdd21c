// Host faults reach the guest as I/O errors, not as a dead VM. Linux on minivmm writes to a raw
// disk (guest-images/init, minivmm.faults=vda: a write and flush every second until one fails,
// a read of blocks no write touches, reads and writes until both work again, a read-back of
// what it wrote, one more write with a flush). The host:
//  - ENOSPC: the image is a sparse file on a full tmpfs; once the guest has seen a write fail
//    and tried a read, the test frees the space. Reads work throughout; after the space is
//    back, writes and flushes work again.
//  - EIO: the image is a device-mapper device over a loop device; when the guest is ready the
//    test swaps its table for the `error` target, and back to `linear` after the guest saw a
//    write and a read fail. Reads and writes work again after the repair, but a flush fails
//    for good once an fdatasync of the image failed (README, "Disks": the host's page cache
//    may have dropped the data that failed to reach the disk, so no later flush may claim it
//    is there; QEMU does the same).
// Each time minivmm must live on, the data read back must be what was written (on the host
// too), and the guest must power off with exit status 0.
//
// Needs hardware virtualisation (tools/test runs it inside tools/kvm-in-qemu elsewhere), root
// (mount, losetup), and for the EIO case dmsetup with the kernel's device-mapper.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <sys/mount.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "linux_images.hpp"
#include "run_process.hpp"

namespace {

namespace fs = std::filesystem;
using minivmm::test::BackgroundProcess;
using minivmm::test::images_dir;
using minivmm::test::ProcessResult;
using minivmm::test::run_process;

constexpr uint64_t IMAGE_BYTES = 64 << 20;
constexpr int STEP_MS = 150000;   // one guest step: up to 120 one-second tries, nested guests are slow

// A sparse file of `bytes` (the space comes when the guest writes).
void make_sparse(const fs::path& path, uint64_t bytes) {
    std::ofstream(path).close();
    fs::resize_file(path, bytes);
}

std::string sh(const std::string& command, int* status = nullptr) {
    ProcessResult r = run_process({"/bin/sh", "-c", command}, 120);
    if (status) *status = r.exit_code;
    return r.out + r.err;
}

// The sha256 of the first MiB of `path` (what the guest wrote and read back).
std::string first_mib_sha256(const fs::path& path) {
    std::string out = sh("head -c 1048576 '" + path.string() + "' | sha256sum");
    return out.substr(0, out.find(' '));
}

std::string verified_sha(const std::string& out) {
    static const std::regex OK("MINIVMM-FAULTS-VERIFY-OK ([0-9a-f]{64})");
    std::smatch m;
    return std::regex_search(out, m, OK) ? m[1].str() : "";
}

// After the repair: the guest read back what it wrote, powered off with 0, printed no BAD line,
// saw `read` while the fault lasted and `flush` at the end; the host's `storage` holds what the
// guest read back.
void expect_recovered(BackgroundProcess& vm, const fs::path& storage, const std::string& read,
                      const char* read_why, const std::string& flush, const char* flush_why) {
    EXPECT_TRUE(vm.wait_for_output("MINIVMM-FAULTS-VERIFY-OK", STEP_MS)) << vm.output();
    ProcessResult r = vm.finish(0, 120);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(read), std::string::npos) << read_why << ":\n" << r.out;
    EXPECT_NE(r.out.find(flush), std::string::npos) << flush_why << ":\n" << r.out;
    EXPECT_EQ(r.out.find("MINIVMM-FAULTS-BAD"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("MINIVMM-POWEROFF"), std::string::npos) << r.out;
    const std::string sha = verified_sha(r.out);
    EXPECT_FALSE(sha.empty()) << r.out;
    EXPECT_EQ(first_mib_sha256(storage), sha) << storage << " does not hold what the guest read back";
}

class LinuxGuestFaults : public ::testing::Test {
protected:
    void SetUp() override {
        REQUIRE_FULL_LINUX();
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (tmpfs mounts, loop and device-mapper devices)";
        dir_ = fs::temp_directory_path() / ("minivmm-faults-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override {
        if (!dir_.empty()) fs::remove_all(dir_);
    }

    std::vector<std::string> vm_argv(const std::string& disk) const {
        return {MINIVMM_BINARY, "--kernel", (images_dir() / "kernel/bzImage").string(), "--initrd",
                (images_dir() / "initramfs/initramfs.cpio.gz").string(), "--mem", "128M",
                "--disk", disk, "--timeout", "600", "--cmdline",
                "console=ttyS0 minivmm.disk=none minivmm.faults=vda"};
    }

    fs::path dir_;
};

TEST_F(LinuxGuestFaults, AFullHostFileSystemGivesWriteErrorsUntilSpaceIsFreed) {
    const fs::path mnt = dir_ / "small";
    fs::create_directories(mnt);
    ASSERT_EQ(::mount("minivmm-faults", mnt.c_str(), "tmpfs", 0, "size=8m"), 0)
        << "mount tmpfs: " << std::strerror(errno);
    struct Unmount {
        fs::path p;
        ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
    } unmount{mnt};
    const fs::path image = mnt / "disk.img";
    make_sparse(image, IMAGE_BYTES);   // 64 MiB on 8 MiB
    int status = 0;
    sh("dd if=/dev/zero of='" + (mnt / "filler").string() + "' bs=64k", &status);
    ASSERT_NE(status, 0) << "the filler should have run out of space";

    BackgroundProcess vm(vm_argv(image.string()));
    ASSERT_TRUE(vm.wait_for_output("MINIVMM-FAULTS-WRITE-FAILED", 120000))
        << "the guest never saw its write fail on a full host file system:\n" << vm.output();
    ASSERT_TRUE(vm.wait_for_output("MINIVMM-FAULTS-READ-", STEP_MS)) << vm.output();
    fs::remove(mnt / "filler");
    expect_recovered(vm, image, "MINIVMM-FAULTS-READ-OK",
                     "reads must go on working while the host file system is full",
                     "MINIVMM-FAULTS-FLUSH-OK", "a flush must work again once there is space");
}

// A device-mapper device over a loop device over a file, whose table the test can swap.
class DmDevice {
public:
    DmDevice(const fs::path& file, const std::string& name) : name_(name) {
        int status = 0;
        std::string out = sh("/sbin/losetup -f --show '" + file.string() + "'", &status);
        if (status != 0) {
            why_ = "losetup: " + out;
            return;
        }
        loop_ = out.substr(0, out.find('\n'));
        out = sh(dmsetup("create " + name_ + " --table '" + table(true) + "'"), &status);
        if (status != 0) why_ = "dmsetup create: " + out;
        else created_ = true;
    }
    ~DmDevice() {
        if (created_) sh(dmsetup("remove " + name_));
        if (!loop_.empty()) sh("/sbin/losetup -d " + loop_);
    }
    // Why the device could not be made; empty when it was.
    const std::string& why_not() const { return why_; }
    std::string path() const { return "/dev/mapper/" + name_; }
    // Swaps the table: reads and writes fail with EIO (`error`) or reach the file (`linear`).
    std::string set_working(bool working) {
        int status = 0;
        std::string out = sh(dmsetup("suspend " + name_) + " && " +
                             dmsetup("load " + name_ + " --table '" + table(working) + "'") + " && " +
                             dmsetup("resume " + name_), &status);
        return status == 0 ? "" : out.empty() ? "failed" : out;
    }

private:
    // No udev here: libdevmapper makes the /dev/mapper node itself.
    static std::string dmsetup(const std::string& args) {
        return "DM_DISABLE_UDEV=1 /sbin/dmsetup --noudevsync " + args + " 2>&1";
    }
    std::string table(bool working) const {
        const std::string sectors = std::to_string(IMAGE_BYTES / 512);
        return working ? "0 " + sectors + " linear " + loop_ + " 0" : "0 " + sectors + " error";
    }
    std::string name_, loop_, why_;
    bool created_ = false;
};

TEST_F(LinuxGuestFaults, AnUnreadableDeviceGivesIoErrorsUntilItIsRepaired) {
    if (!fs::exists("/sbin/dmsetup") || !fs::exists("/sbin/losetup"))
        GTEST_SKIP() << "needs /sbin/dmsetup and /sbin/losetup (packages dmsetup, mount)";
    const fs::path file = dir_ / "disk.img";
    make_sparse(file, IMAGE_BYTES);
    DmDevice dm(file, "minivmm-faults-" + std::to_string(::getpid()));
    if (!dm.why_not().empty()) GTEST_SKIP() << "no device-mapper device here: " << dm.why_not();

    BackgroundProcess vm(vm_argv(dm.path()));
    ASSERT_TRUE(vm.wait_for_output("MINIVMM-FAULTS-READY", 120000))
        << "the guest never started the test:\n" << vm.output();
    ASSERT_EQ(dm.set_working(false), "");
    ASSERT_TRUE(vm.wait_for_output("MINIVMM-FAULTS-WRITE-FAILED", STEP_MS))
        << "the guest never saw a write fail on a failing device:\n" << vm.output();
    ASSERT_TRUE(vm.wait_for_output("MINIVMM-FAULTS-READ-", STEP_MS)) << vm.output();
    ASSERT_EQ(dm.set_working(true), "");
    expect_recovered(vm, dm.path(), "MINIVMM-FAULTS-READ-FAILED",
                     "a read of a failing device must fail in the guest",
                     "MINIVMM-FAULTS-FLUSH-FAILED", "after a failed fdatasync no flush may succeed");
}

} // namespace
