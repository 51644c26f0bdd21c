// Wrong invocations: each gives one "minivmm: error:" line naming the culprit and a documented
// exit code (README, "Exit codes"), and never starts a guest.
#include <asm/bootparam.h>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "run_process.hpp"

namespace {

using minivmm::test::run_process;

struct BadInvocation {
    std::vector<std::string> args;
    int code;
    std::string needle;   // must appear in the one error line
};

class CliTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("minivmm-cli-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        std::ofstream(dir_ / "empty");
        std::ofstream(dir_ / "text") << "not a kernel\n";
        std::string bz(0x400, '\0');   // just enough of a setup header to look like a bzImage
        bz.replace(0x202, 4, "HdrS");
        std::ofstream(dir_ / "bzImage") << bz;
        std::ofstream(dir_ / "initrd") << "an initrd\n";
        write_bzimage("good-bzImage", 0x3000);
        write_bzimage("huge-bzImage", 0x7fff'0000);   // init_size: 2 GiB
        write_bzimage("high-bzImage", 0x3000, 0x100'0000);   // decompresses at 16 MiB

        make_sparse("big-initrd", 8 << 20);
        make_sparse("3M-initrd", 3 << 20);
        std::ofstream(dir_ / "odd.img") << std::string(1000, 'x');
        std::ofstream(dir_ / "disk.img") << std::string(4096, '\0');
        std::ofstream(dir_ / "locked.img") << std::string(4096, '\0');
        // Another "minivmm" holds the image: an OFD write lock of this process conflicts with
        // the child's (image_lock.hpp).
        locked_fd_ = ::open(path("locked.img").c_str(), O_RDWR | O_CLOEXEC);
        struct flock lock {};
        lock.l_type = F_WRLCK;
        lock.l_whence = SEEK_SET;
        ASSERT_EQ(::fcntl(locked_fd_, F_OFD_SETLK, &lock), 0);
    }
    void TearDown() override {
        ::close(locked_fd_);
        std::filesystem::remove_all(dir_);
    }
    std::string path(const char* name) const { return (dir_ / name).string(); }
    // A synthetic bzImage: protocol 2.15, 64-bit entry, 4 setup sectors, 4 KiB of kernel, a
    // 16-byte command-line limit.
    void write_bzimage(const char* name, uint32_t init_size, uint64_t pref_address = 0) const {
        std::string f(5 * 512 + 0x1000, '\x90');
        setup_header h{};
        h.setup_sects = 4;
        h.boot_flag = 0xaa55;
        h.jump = 0x6aeb;
        h.header = 0x53726448;
        h.version = 0x020f;
        h.cmdline_size = 16;
        h.initrd_addr_max = 0x7fffffff;
        h.xloadflags = XLF_KERNEL_64;
        h.init_size = init_size;
        h.pref_address = pref_address;
        std::memcpy(f.data() + 0x1f1, &h, sizeof h);
        std::ofstream(dir_ / name, std::ios::binary) << f;
    }
    // A sparse file of `size` bytes (no disk space used).
    std::string make_sparse(const char* name, uintmax_t size) const {
        std::ofstream(dir_ / name).put('x');
        std::filesystem::resize_file(dir_ / name, size);
        return path(name);
    }
    std::filesystem::path dir_;
    int locked_fd_ = -1;
};

TEST_F(CliTest, BadInvocationsGiveOneErrorLineAndDocumentedCode) {
    std::vector<BadInvocation> cases = {
        {{"--kernel", path("missing")}, 3, "Cannot open kernel " + path("missing")},
        {{"--kernel", dir_.string()}, 3, "is not a regular file"},
        {{"--kernel", path("empty")}, 3, "Kernel " + path("empty") + " is empty"},
        {{"--kernel", path("text")}, 3, "neither a bzImage"},
        {{"--kernel", path("bzImage")}, 3, "bzImage: boot_flag is 0x0000, not 0xaa55"},
        {{"--cmdline", "console=ttyS0"}, 2, "--cmdline needs --kernel"},
        {{"--initrd", path("initrd")}, 2, "--initrd needs --kernel"},
        {{"--kernel", MINIVMM_PVH_GUEST, "--initrd", path("missing")}, 3,
         "Cannot open initrd " + path("missing")},
        {{"--kernel", MINIVMM_PVH_GUEST, "--initrd", dir_.string()}, 3, "is not a regular file"},
        {{"--kernel", MINIVMM_PVH_GUEST, "--initrd", path("empty")}, 3,
         "Initrd " + path("empty") + " is empty"},
        {{"--kernel", MINIVMM_PVH_GUEST, "--mem", "4M", "--initrd", path("big-initrd")}, 2,
         "more than the guest's 4194304 bytes of RAM (raise --mem)"},
        {{"--kernel", MINIVMM_PVH_GUEST, "--mem", "4M", "--initrd", path("3M-initrd")}, 2,
         "does not fit between the kernel end"},
        {{"--kernel", MINIVMM_PVH_GUEST, "--cmdline", std::string(70000, 'x')}, 2,
         "--cmdline is 70000 bytes, the limit is 65535"},
        {{"--kernel", MINIVMM_PVH_GUEST, "--cpus", "65"}, 2, "--cpus"},
        {{"--kernel", path("huge-bzImage")}, 3, "more than guest RAM holds"},
        {{"--kernel", path("good-bzImage"), "--cmdline", "console=ttyS0 quiet"}, 2,
         "--cmdline is 19 bytes, the limit is 16"},
        {{"--kernel", path("good-bzImage"), "--initrd", path("missing")}, 3, "Cannot open initrd"},
        {{"--kernel", path("good-bzImage"), "--mem", "4M", "--initrd", path("3M-initrd")}, 2,
         "does not fit between the kernel end"},
        {{"--kernel", path("high-bzImage"), "--mem", "8M"}, 3,
         "needs RAM up to 0x1003000 (pref_address + init_size)"},
        // The initrd goes above where the kernel decompresses (16 MiB + init_size), not above
        // the 1 MiB load address: 3 MiB do not fit in 19 MiB, but would above 1 MiB.
        {{"--kernel", path("high-bzImage"), "--mem", "19M", "--initrd", path("3M-initrd")}, 2,
         "does not fit between the kernel end 0x1003000"},
        {{"--kernel", MINIVMM_BINARY}, 3, "ELF kernel: e_type 3 is not ET_EXEC"},
        {{"--mem", "lots"}, 2, "--mem: Invalid size 'lots'"},
        {{"--mem", "1K"}, 2, "outside"},
        {{"--mem", "99999999999999999999"}, 2, "too large"},
        {{"--mem", "100T"}, 2, "outside"},
        {{"--cpus", "0"}, 2, "--cpus"},
        {{"--cpus", "two"}, 2, "--cpus"},
        {{"--cpus", "2"}, 2, "exactly one vCPU"},
        {{"--demo", "nope"}, 2, "Unknown demo 'nope'"},
        {{"--no-such-option"}, 2, "--no-such-option"},
        {{"--timeout", "-1"}, 2, "--timeout"},
        {{"--log-level", "loud"}, 2, "Unknown log level 'loud'"},
        {{"--disk", path("missing.img")}, 3, "Cannot open disk image " + path("missing.img")},
        {{"--disk", dir_.string()}, 3, "Disk image " + dir_.string() + " is a directory"},
        {{"--disk", path("empty")}, 3, "Disk image " + path("empty") + " is empty"},
        {{"--disk", path("odd.img")}, 3, "is 1000 bytes, not a multiple of 512"},
        {{"--disk", path("disk.img") + ",fast"}, 2, "unknown option 'fast'"},
        {{"--disk", ",ro"}, 2, "no path"},
        {{"--disk", path("disk.img") + ",serial=123456789012345678901"}, 2, "longer than 20"},
        {{"--disk", path("locked.img")}, 3, "Disk image " + path("locked.img") + " is locked"},
        {{"--disk", path("locked.img") + ",ro"}, 3, "is locked"},
        {{"--disk", path("disk.img"), "--disk", path("disk.img")}, 3, "is locked"},
        {{"--net", ""}, 2, "--net: empty tap name"},
        {{"--net", "averyveryverylongname"}, 2, "longer than 15 characters"},
        {{"--net", "tap=x,mac=zz"}, 2, "Invalid MAC address 'zz'"},
        {{"--net", "tap=x,mac=01:00:00:00:00:01"}, 2, "multicast"},
        {{"--net", "tap=x,speed=10"}, 2, "unknown key 'speed'"},
        {{"--net", "mac=02:00:00:00:00:01"}, 2, "tap=NAME is missing"},
        {{"--net", "mvdup", "--net", "mvdup"}, 2, "--net: tap mvdup given twice"},
        {{"--net", "tap=a,mac=02:00:00:00:00:01", "--net", "tap=b,mac=02:00:00:00:00:01"}, 2,
         "MAC 02:00:00:00:00:01 given twice"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> argv = {MINIVMM_BINARY};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        auto r = run_process(argv, 30);
        std::string what;
        for (const auto& a : c.args) what += " " + a.substr(0, 80);
        EXPECT_EQ(r.exit_code, c.code) << what << "\n" << r.err;
        EXPECT_EQ(r.out, "") << what << ": a guest must not start";
        EXPECT_EQ(r.err.rfind("minivmm: error: ", 0), 0u) << what << "\n" << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << "\n" << r.err;
        EXPECT_NE(r.err.find(c.needle), std::string::npos) << what << "\n" << r.err;
    }
}

// A valid bzImage with an initrd and a command line at its limit passes every check of step 1:
// --dump-dtb stops right after it (no /dev/kvm needed).
TEST_F(CliTest, ValidBzImageAndInitrdPassTheInputChecks) {
    auto r = run_process({MINIVMM_BINARY, "--kernel", path("good-bzImage"), "--initrd",
                          path("initrd"), "--cmdline", "console=ttyS0 q1", "--cpus", "4",
                          "--dump-dtb", path("out.dtb")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_TRUE(std::filesystem::exists(path("out.dtb")));
}

// --net with real taps, in a network namespace the test makes (root; skipped otherwise). The
// taps are opened before /dev/kvm, so these run on hosts without KVM.
constexpr const char* IP = "/usr/sbin/ip";

class NetCliTest : public ::testing::Test {
protected:
    void SetUp() override {
        ns_ = "minivmm-cli-" + std::to_string(::getpid());
        if (run_process({IP, "netns", "add", ns_}).exit_code != 0)
            GTEST_SKIP() << "needs root and iproute2 to make a network namespace";
        made_ = true;
    }
    void TearDown() override {
        if (made_) run_process({IP, "netns", "del", ns_});
    }
    minivmm::test::ProcessResult in_ns(std::vector<std::string> argv) {
        argv.insert(argv.begin(), {IP, "netns", "exec", ns_});
        return run_process(argv, 30);
    }
    std::string ns_;
    bool made_ = false;
};

void expect_one_error_line(const minivmm::test::ProcessResult& r, int code, const std::string& needle) {
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("minivmm: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST_F(NetCliTest, MissingTapWithoutCapNetAdminSaysHowToCreateIt) {
    // NET-09. Root without CAP_NET_ADMIN (dropped from the bounding and inheritable sets).
    auto r = in_ns({"setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin",
                    MINIVMM_BINARY, "--net", "mvmissing0"});
    expect_one_error_line(r, 3, "ip tuntap add dev mvmissing0 mode tap");
    EXPECT_NE(r.err.find("--net mvmissing0: Tap device mvmissing0 does not exist"),
              std::string::npos)
        << r.err;
}

TEST_F(NetCliTest, MissingTapWithCapNetAdminIsCreatedAndSaidSo) {
    auto r = in_ns({MINIVMM_BINARY, "--net", "mvnew0", "--timeout", "5"});
    EXPECT_NE(r.err.find("tap device mvnew0 did not exist: created it"), std::string::npos)
        << r.err;
    // Then /dev/kvm: the demo runs (0) or, on a host without KVM, exit code 4.
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 4) << r.exit_code << "\n" << r.err;
}

TEST_F(NetCliTest, TunDevicesAndMultiQueueTapsAreRefusedAtStartup) {
    // NET-09.
    ASSERT_EQ(in_ns({"ip", "tuntap", "add", "dev", "mvtun0", "mode", "tun"}).exit_code, 0);
    ASSERT_EQ(in_ns({"ip", "tuntap", "add", "dev", "mvmq0", "mode", "tap", "multi_queue"}).exit_code,
              0);
    expect_one_error_line(in_ns({MINIVMM_BINARY, "--net", "mvtun0"}), 3,
                          "mvtun0 is a tun device, minivmm needs a tap");
    expect_one_error_line(in_ns({MINIVMM_BINARY, "--net", "mvmq0"}), 3, "Tap mvmq0 is multi-queue");
}

TEST(Cli, HelpListsEveryDemoAndExitsZero) {
    auto r = run_process({MINIVMM_BINARY, "--help"});
    EXPECT_EQ(r.exit_code, 0);
    for (const char* demo : {"hello", "long", "ports", "status", "spin", "triple-fault"})
        EXPECT_NE(r.out.find(std::string("  ") + demo + " "), std::string::npos) << demo;
    EXPECT_NE(r.out.find("--trace-exits"), std::string::npos);
    EXPECT_NE(r.out.find("--stats"), std::string::npos);
    for (const char* option : {"--initrd", "--dump-dtb", "--cpus"})
        EXPECT_NE(r.out.find(option), std::string::npos) << option;
    EXPECT_NE(r.out.find("--net"), std::string::npos);
}

TEST(Cli, VersionPrintsVersion) {
    auto r = run_process({MINIVMM_BINARY, "--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.rfind("minivmm ", 0), 0u) << r.out;
}

} // namespace
