// Nothing acknowledged is ever lost: Linux on an ext4 root on virtio-blk writes numbered files,
// each fsync'd with its directory, and prints each number only after the fsyncs returned
// (guest-images/init, minivmm.fsyncloop). minivmm is SIGKILLed at a random moment; then the
// image, after its journal is replayed, passes e2fsck -fn and holds every acknowledged file
// with its exact content. Rounds vary the kill time, --seccomp, 1 or 2 vCPUs and whether the
// host's page cache is dropped before the check. A last boot then mounts a crashed image as
// its root (Linux replays the journal) and reads every file: it must not stall.
//
// MINIVMM_KILL_ROUNDS sets the number of rounds (default 6; tools/crash-soak runs more).
// Needs hardware virtualisation (tools/test runs it inside tools/kvm-in-qemu elsewhere), the
// images of guest-images/, and e2fsprogs (e2fsck, debugfs).
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "linux_images.hpp"
#include "run_process.hpp"

namespace {

namespace fs = std::filesystem;
using minivmm::test::has;
using minivmm::test::BackgroundProcess;
using minivmm::test::file_bytes;
using minivmm::test::images_dir;
using minivmm::test::run_process;

std::string expected_file(int k) {   // yes "file K" | head -c 8192
    std::string line = "file " + std::to_string(k) + "\n", out;
    while (out.size() < 8192) out += line;
    out.resize(8192);
    return out;
}

int last_acknowledged(const std::string& out) {
    static const std::regex ACK("MINIVMM-FSYNCED ([0-9]+)");
    int last = 0;
    for (auto it = std::sregex_iterator(out.begin(), out.end(), ACK); it != std::sregex_iterator(); ++it)
        last = std::max(last, std::stoi((*it)[1]));
    return last;
}

bool drop_host_page_cache() {
    std::ofstream f("/proc/sys/vm/drop_caches");
    ::sync();
    f << "3\n";
    f.flush();
    return static_cast<bool>(f);
}

class CrashConsistency : public ::testing::Test {
protected:
    void SetUp() override {
        REQUIRE_FULL_LINUX();
        dir_ = fs::temp_directory_path() / ("minivmm-crash-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override {
        if (!dir_.empty()) fs::remove_all(dir_);
    }

    // One round: boot, kill after `delay_ms` past the first acknowledged file, check the image.
    // Returns the crashed image (before any replay) for the final boot.
    fs::path round(int index, int delay_ms, bool seccomp, int cpus, bool drop_cache) {
        SCOPED_TRACE("round " + std::to_string(index) + ": kill " + std::to_string(delay_ms) +
                     " ms after the first fsync, " + (seccomp ? "seccomp" : "--no-seccomp") +
                     ", " + std::to_string(cpus) + " vCPU(s)" + (drop_cache ? ", page cache dropped" : ""));
        const fs::path image = dir_ / ("round" + std::to_string(index) + ".ext4");
        fs::copy_file(images_dir() / "disk/rootfs.ext4", image, fs::copy_options::overwrite_existing);
        std::vector<std::string> argv = {MINIVMM_BINARY, "--kernel",
                                         (images_dir() / "kernel/bzImage").string(), "--mem", "256M",
                                         "--cpus", std::to_string(cpus), "--disk", image.string(),
                                         "--timeout", "120", "--cmdline",
                                         "console=ttyS0 root=/dev/vda rw minivmm.fsyncloop=100000"};
        if (!seccomp) argv.push_back("--no-seccomp");
        BackgroundProcess vm(argv);
        EXPECT_TRUE(vm.wait_for_output("MINIVMM-FSYNCED 1\r", 60000))
            << "the writer never started:\n" << vm.output();
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        auto r = vm.finish(SIGKILL, 30);
        EXPECT_EQ(r.signal, SIGKILL) << r.err;
        const int acked = last_acknowledged(r.out);
        EXPECT_GT(acked, 0) << r.both();
        if (drop_cache) {
            EXPECT_TRUE(drop_host_page_cache()) << "cannot write /proc/sys/vm/drop_caches";
        }

        const fs::path crashed = dir_ / ("crashed" + std::to_string(index) + ".ext4");
        fs::copy_file(image, crashed, fs::copy_options::overwrite_existing);
        auto replay = run_process({"/sbin/e2fsck", "-E", "journal_only", "-y", image.string()});
        EXPECT_LE(replay.exit_code, 1) << replay.out << replay.err;
        auto fsck = run_process({"/sbin/e2fsck", "-fn", image.string()});
        EXPECT_EQ(fsck.exit_code, 0) << "the file system is inconsistent:\n" << fsck.out << fsck.err;
        const fs::path files = dir_ / ("files" + std::to_string(index));
        fs::create_directories(files);
        auto dump = run_process({"/sbin/debugfs", "-R", "rdump /minivmm/fsync " + files.string(),
                                 image.string()});
        EXPECT_EQ(dump.exit_code, 0) << dump.err;
        int missing = 0, wrong = 0;
        for (int k = 1; k <= acked; ++k) {
            const fs::path f = files / "fsync" / std::to_string(k);
            if (!fs::exists(f)) ++missing;
            else if (file_bytes(f) != expected_file(k)) ++wrong;
        }
        EXPECT_EQ(missing, 0) << "of " << acked << " acknowledged files";
        EXPECT_EQ(wrong, 0) << "of " << acked << " acknowledged files";
        std::printf("[ INFO     ] round %d: %d files acknowledged before the kill, all present and intact: %s\n",
                    index, acked, missing == 0 && wrong == 0 ? "yes" : "NO");
        fs::remove_all(files);
        fs::remove(image);
        return crashed;
    }

    fs::path dir_;
};

TEST_F(CrashConsistency, KilledAtRandomMomentsLosesNothingAcknowledged) {
    int rounds = 6;
    if (const char* env = std::getenv("MINIVMM_KILL_ROUNDS")) rounds = std::max(1, std::atoi(env));
    std::mt19937 rng(std::random_device{}());
    fs::path last_crashed;
    for (int i = 0; i < rounds; ++i) {
        const int delay = std::uniform_int_distribution<int>(0, 2000)(rng);
        if (!last_crashed.empty()) fs::remove(last_crashed);
        last_crashed = round(i, delay, /*seccomp=*/i % 2 == 0, /*cpus=*/1 + (i / 2) % 2,
                             /*drop_cache=*/i % 3 == 2);
        if (HasFatalFailure()) return;
    }
    // The guest's own journal replay and a read of every file on the last crashed image.
    auto r = run_process({MINIVMM_BINARY, "--kernel", (images_dir() / "kernel/bzImage").string(),
                          "--mem", "256M", "--disk", last_crashed.string(), "--timeout", "60",
                          "--cmdline", "console=ttyS0 root=/dev/vda rw minivmm.readall=1"},
                         90);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "MINIVMM-READALL ")) << r.out;
    EXPECT_TRUE(has(r.out, "MINIVMM-POWEROFF")) << r.out;
}

} // namespace
