// Wrong invocations: each gives one "minivmm: error:" line naming the culprit and a documented
// exit code (README, "Exit codes"), and never starts a guest.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <asm/bootparam.h>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "gzip.hpp"
#include "run_process.hpp"

namespace {

using minivmm::test::run_process;

struct BadInvocation {
    std::vector<std::string> args;
    int code;
    std::string needle;   // must appear in the one error line
};

// A file the test process cannot open for reading. As an ordinary user a chmod 000 file; root
// bypasses file permissions, so for root a write-only sysfs attribute (sysfs refuses to open a
// file without a show method for reading, even for root). Empty if none exists on this host.
std::string unreadable_file(const std::filesystem::path& dir) {
    if (::geteuid() != 0) {
        auto p = dir / "unreadable";
        std::ofstream(p) << "\x7f" "ELF";
        std::filesystem::permissions(p, std::filesystem::perms::none);
        return p.string();
    }
    for (const char* p : {"/sys/bus/pci/rescan", "/sys/class/zram-control/hot_remove"}) {
        int fd = ::open(p, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ::close(fd);
        } else if (errno == EACCES) {
            return p;
        }
    }
    return "";
}

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}


void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Changes the test PVH guest's program headers (ELF32 or ELF64): `change(p_type, paddr, memsz)`.
template <typename F>
std::vector<uint8_t> patch_phdrs(std::vector<uint8_t> elf, F change) {
    auto patch = [&](auto ehdr, auto phdr) {
        std::memcpy(&ehdr, elf.data(), sizeof ehdr);
        for (unsigned i = 0; i < ehdr.e_phnum; ++i) {
            size_t off = ehdr.e_phoff + i * sizeof phdr;
            std::memcpy(&phdr, elf.data() + off, sizeof phdr);
            uint64_t paddr = phdr.p_paddr, memsz = phdr.p_memsz;
            uint32_t type = phdr.p_type;
            change(type, paddr, memsz);
            phdr.p_type = type;
            phdr.p_paddr = static_cast<decltype(phdr.p_paddr)>(paddr);
            phdr.p_memsz = static_cast<decltype(phdr.p_memsz)>(memsz);
            std::memcpy(elf.data() + off, &phdr, sizeof phdr);
        }
    };
    if (elf.at(EI_CLASS) == ELFCLASS64) patch(Elf64_Ehdr{}, Elf64_Phdr{});
    else patch(Elf32_Ehdr{}, Elf32_Phdr{});
    return elf;
}

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
        std::ofstream(dir_ / "bzImage.truncated") << bz.substr(0, 0x204);   // cut in "HdrS"
        std::ofstream(dir_ / "garbage.elf") << "\x7f" "ELF" << std::string(60, '\xff');
        auto pvh = read_bytes(MINIVMM_PVH_GUEST);
        ASSERT_GT(pvh.size(), 200u);
        write_bytes(dir_ / "truncated.elf", {pvh.begin(), pvh.begin() + 200});
        // A PVH kernel that embeds a config (as CONFIG_IKCONFIG does) with everything the
        // command runner needs but 9p: `-- CMD` must refuse it, naming the three options.
        {
            auto lacking = pvh;
            const std::string st = "IKCFG_ST", ed = "IKCFG_ED";
            auto config = minivmm::test::gzip(
                "CONFIG_BLK_DEV_INITRD=y\nCONFIG_BINFMT_ELF=y\nCONFIG_PROC_FS=y\nCONFIG_SYSFS=y\n"
                "CONFIG_DEVTMPFS=y\nCONFIG_TMPFS=y\nCONFIG_TTY=y\nCONFIG_VIRTIO_MMIO=y\n"
                "CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y\nCONFIG_VIRTIO_CONSOLE=y\n"
                "CONFIG_X86_IOPL_IOPERM=y\nCONFIG_PVPANIC=y\nCONFIG_PVPANIC_MMIO=y\n"
                "# CONFIG_NET_9P is not set\nCONFIG_OVERLAY_FS=y\n");
            lacking.insert(lacking.end(), st.begin(), st.end());
            lacking.insert(lacking.end(), config.begin(), config.end());
            lacking.insert(lacking.end(), ed.begin(), ed.end());
            write_bytes(dir_ / "runner-lacking.elf", lacking);
        }
        // A shared object's e_type (ET_DYN, 3: a PIE program's) at offset 16 of the header.
        {
            auto dyn = pvh;
            dyn[16] = static_cast<uint8_t>(ET_DYN);
            dyn[17] = 0;
            write_bytes(dir_ / "et-dyn.elf", dyn);
        }
        write_bytes(dir_ / "nonote.elf", patch_phdrs(pvh, [](uint32_t& type, uint64_t&, uint64_t&) {
                        if (type == PT_NOTE) type = PT_NULL;
                    }));
        write_bytes(dir_ / "huge-segment.elf",
                    patch_phdrs(pvh, [](uint32_t& type, uint64_t&, uint64_t& memsz) {
                        if (type == PT_LOAD) memsz = 0x7000'0000;   // 1.75 GiB of bss
                    }));
        // 1 GiB + 1 page, sparse: an ELF too large to read (nothing is written to disk).
        std::ofstream(dir_ / "sparse.elf") << "\x7f" "ELF";
        std::filesystem::resize_file(dir_ / "sparse.elf", (1ULL << 30) + 4096);
        ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
        unreadable_ = unreadable_file(dir_);
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
        std::ofstream(dir_ / "initrd") << "an initrd\n";
        write_bzimage("good-bzImage", 0x3000);
        write_bzimage("huge-bzImage", 0x7fff'0000);   // init_size: 2 GiB
        write_bzimage("high-bzImage", 0x3000, 0x100'0000);   // decompresses at 16 MiB

        make_sparse("big-initrd", 8 << 20);
        make_sparse("3M-initrd", 3 << 20);
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
    std::string unreadable_;
    int locked_fd_ = -1;
};

// "--kernel /tmp/x --mem 1G" for the failure messages; long arguments shortened.
std::string describe(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) s += (s.empty() ? "" : " ") + (a.size() > 60 ? a.substr(0, 20) + "..." : a);
    return s;
}

TEST_F(CliTest, BadInvocationsGiveOneErrorLineAndDocumentedCode) {
    const std::string pvh = MINIVMM_PVH_GUEST;
    std::vector<BadInvocation> cases = {
        // Kernel files.
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
        {{"--kernel", path("bzImage.truncated")}, 3, "Kernel " + path("bzImage.truncated") + " is neither"},
        {{"--kernel", path("et-dyn.elf")}, 3, "ELF kernel: e_type 3 is not ET_EXEC"},
        {{"--kernel", path("garbage.elf")}, 3, "Kernel " + path("garbage.elf") + ": ELF kernel: not little-endian"},
        {{"--kernel", path("truncated.elf")}, 3, "Kernel " + path("truncated.elf") + ": ELF kernel:"},
        {{"--kernel", path("nonote.elf")}, 3, "no PVH entry note"},
        {{"--kernel", path("huge-segment.elf"), "--mem", "64M"}, 3, "is outside guest RAM"},
        {{"--kernel", path("sparse.elf")}, 3, "Kernel " + path("sparse.elf") + " is larger than 1024 MiB"},
        {{"--kernel", "/dev/null"}, 3, "Kernel /dev/null is not a regular file"},
        {{"--kernel", path("fifo")}, 3, "Kernel " + path("fifo") + " is not a regular file"},
        {{"--kernel", ""}, 3, "Cannot open kernel : No such file"},
        // The command line and option values.
        {{"--cmdline", "console=ttyS0"}, 2, "--cmdline needs --kernel"},
        {{"--kernel", pvh, "--cmdline", std::string(70000, 'x')}, 2,
         "--cmdline is 70000 bytes, the limit is 65535"},
        {{"--kernel", pvh, "--demo", "hello"}, 2, "--demo excludes --kernel"},
        {{"--seccomp", "--no-seccomp"}, 2, "excludes"},
        {{"--kernel"}, 2, "--kernel"},
        {{"stray-argument"}, 2, "stray-argument"},
        {{"--mem", "lots"}, 2, "--mem: Invalid size 'lots'"},
        {{"--mem", ""}, 2, "--mem: Invalid size ''"},
        {{"--mem", "0"}, 2, "--mem: 0 is outside 2 MiB..64 GiB"},
        {{"--mem", "1K"}, 2, "--mem: 1K is outside"},
        {{"--mem", "0x10000000"}, 2, "--mem: Invalid size '0x10000000'"},
        {{"--mem", "-1"}, 2, "--mem"},
        {{"--mem", "1.5G"}, 2, "--mem: Invalid size '1.5G'"},
        {{"--mem", "64MBB"}, 2, "--mem: Invalid size '64MBB'"},
        {{"--mem", "64Q"}, 2, "--mem: Invalid size '64Q'"},
        {{"--mem", "64\nM"}, 2, "--mem: Invalid size '64\\nM'"},   // still one line (config_fuzz)
        {{"--mem", "99999999999999999999"}, 2, "too large"},
        {{"--mem", "17179869184G"}, 2, "too large"},   // 2^64 bytes
        {{"--mem", "100T"}, 2, "--mem: 100T is outside"},
        {{"--mem", "128T"}, 2, "--mem: 128T is outside"},
        {{"--cpus", "0"}, 2, "--cpus"},
        {{"--cpus", "65"}, 2, "--cpus"},
        {{"--cpus", "-1"}, 2, "--cpus"},
        {{"--cpus", "two"}, 2, "--cpus"},
        {{"--cpus", "2"}, 2, "exactly one vCPU"},
        {{"--demo", "nope"}, 2, "Unknown demo 'nope'"},
        {{"--demo", ""}, 2, "Unknown demo ''"},
        {{"--no-such-option"}, 2, "--no-such-option"},
        {{"--timeout", "-1"}, 2, "--timeout"},
        {{"--timeout", "99999999999"}, 2, "--timeout"},
        {{"--timeout", "3000000"}, 2, "--timeout"},   // over 2^31 ms: the poll timeout is an int
        {{"--log-level", "loud"}, 2, "Unknown log level 'loud'"},
        // The KVM device (checked after every user input, so the host's /dev/kvm is not needed).
        {{"--kvm", path("missing")}, 4, "Cannot open " + path("missing") + ": no such device"},
        {{"--kvm", "/dev/null"}, 4, "/dev/null: KVM API version -1 is not the supported 12"},
        {{"--kvm", dir_.string()}, 4, "Cannot open " + dir_.string() + ": Is a directory"},
        {{"--disk", path("missing.img")}, 3, "Cannot open disk image " + path("missing.img")},
        {{"--disk", dir_.string()}, 3, "Disk image " + dir_.string() + " is a directory"},
        {{"--disk", path("empty")}, 3, "Disk image " + path("empty") + " is empty"},
        {{"--disk", path("odd.img")}, 3, "is 1000 bytes, not a multiple of 512"},
        {{"--disk", path("disk.img") + ",fast"}, 2, "unknown option 'fast'"},
        {{"--disk", ",ro"}, 2, "no path"},
        {{"--disk", path("disk.img") + ",serial=123456789012345678901"}, 2, "longer than 20"},
        {{"--share", path("no-such-dir")}, 3, "--share: cannot use " + path("no-such-dir")},
        {{"--share", path("disk.img")}, 3, "is not a directory"},
        {{"--share", dir_.string() + ",tag=a/b"}, 2, "tag 'a/b' must be"},
        {{"--share", dir_.string() + ",rx"}, 2, "unknown option 'rx'"},
        {{"--share", dir_.string() + ",tag=t", "--share", "/,tag=t"}, 2, "tag 't' is used twice"},
        {{"--disk", path("locked.img")}, 3, "Disk image " + path("locked.img") + " is locked"},
        {{"--disk", path("locked.img") + ",ro"}, 3, "is locked"},
        {{"--disk", path("disk.img"), "--disk", path("disk.img")}, 3, "is locked"},
        {{"--net", ""}, 2, "--net: empty tap name"},
        {{"--net", "averyveryverylongname"}, 2, "longer than 15 characters"},
        {{"--net", "tap=x,mac=zz"}, 2, "Invalid MAC address 'zz'"},
        {{"--net", "tap=x,mac=01:00:00:00:00:01"}, 2, "multicast"},
        {{"--net", "tap=x,speed=10"}, 2, "unknown key 'speed'"},
        {{"--net", "mac=02:00:00:00:00:01"}, 2, "give exactly one of NAME, tap=NAME, user, stream=PATH"},
        {{"--net", "mvdup", "--net", "mvdup"}, 2, "--net: tap mvdup given twice"},
        {{"--net", "tap=a,mac=02:00:00:00:00:01", "--net", "tap=b,mac=02:00:00:00:00:01"}, 2,
         "MAC 02:00:00:00:00:01 given twice"},
        // The command runner (-- CMD).
        {{"--", "true"}, 2, "-- CMD needs --kernel"},
        {{"--demo", "status", "--", "true"}, 2, "-- CMD needs --kernel"},
        {{"--kernel", pvh, "--"}, 2, "-- must be followed by a command"},
        {{"--kernel", pvh, "--boot-timeout", "5"}, 2, "--boot-timeout needs a command"},
        {{"--kernel", pvh, "--boot-timeout", "-1", "--", "true"}, 2, "--boot-timeout"},
        {{"--kernel", pvh, "--console", "stdio", "--", "true"}, 2,
         "--console stdio cannot be used with -- CMD"},
        {{"--kernel", pvh, "--console", "stdout", "--", "true"}, 2, "--console stdout given twice"},
        {{"--kernel", pvh, "--console", "tty"}, 2, "expected stdio, stdout, stderr, file=PATH"},
        {{"--kernel", path("missing"), "--", "true"}, 3, "Cannot open kernel " + path("missing")},
        {{"--kernel", path("runner-lacking.elf"), "--", "true"}, 3,
         "runner-lacking.elf lacks what the command runner needs (see guest-images/runner.config): "
         "CONFIG_NET_9P CONFIG_NET_9P_VIRTIO CONFIG_9P_FS"},
    };
    if (!unreadable_.empty()) {
        cases.push_back({{"--kernel", unreadable_}, 3,
                         "Cannot open kernel " + unreadable_ + ": Permission denied"});
        cases.push_back({{"--kvm", unreadable_}, 4,
                         "Cannot open " + unreadable_ + ": permission denied"});
    }
    EXPECT_GE(cases.size(), 25u);
    for (const auto& c : cases) {
        std::vector<std::string> argv = {MINIVMM_BINARY};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        auto r = run_process(argv, 30);
        std::string what = describe(c.args);
        EXPECT_FALSE(r.timed_out) << what;
        EXPECT_EQ(r.exit_code, c.code) << what << "\n" << r.err;
        EXPECT_EQ(r.out, "") << what << ": a guest must not start";
        EXPECT_EQ(r.err.rfind("minivmm: error: ", 0), 0u) << what << "\n" << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what << "\n" << r.err;
        EXPECT_LE(r.err.size(), 300u) << what << ": the line should be short\n" << r.err;
        EXPECT_NE(r.err.find(c.needle), std::string::npos) << what << "\n" << r.err;
    }
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
    // Root without CAP_NET_ADMIN (dropped from the bounding and inheritable sets).
    auto r = in_ns({"setpriv", "--bounding-set=-net_admin", "--inh-caps=-net_admin",
                    MINIVMM_BINARY, "--net", "mvmissing0"});
    expect_one_error_line(r, 3, "ip tuntap add dev mvmissing0 mode tap");
    EXPECT_NE(r.err.find("--net mvmissing0: Tap device mvmissing0 does not exist"),
              std::string::npos)
        << r.err;
}

TEST_F(NetCliTest, MissingTapWithCapNetAdminIsCreatedAndSaidSo) {
    // The status demo: with a virtio device a demo gets the in-kernel irqchip, and then the
    // default demo's HLT (interrupts off) would wait for ever.
    auto r = in_ns({MINIVMM_BINARY, "--demo", "status", "--net", "mvnew0", "--timeout", "5"});
    EXPECT_NE(r.err.find("tap device mvnew0 did not exist: created it"), std::string::npos)
        << r.err;
    // Then /dev/kvm: the demo runs (42) or, on a host without KVM, exit code 4.
    EXPECT_TRUE(r.exit_code == 42 || r.exit_code == 4) << r.exit_code << "\n" << r.err;
}

TEST_F(NetCliTest, TunDevicesAndMultiQueueTapsAreRefusedAtStartup) {
    ASSERT_EQ(in_ns({"ip", "tuntap", "add", "dev", "mvtun0", "mode", "tun"}).exit_code, 0);
    ASSERT_EQ(in_ns({"ip", "tuntap", "add", "dev", "mvmq0", "mode", "tap", "multi_queue"}).exit_code,
              0);
    expect_one_error_line(in_ns({MINIVMM_BINARY, "--net", "mvtun0"}), 3,
                          "mvtun0 is a tun device, minivmm needs a tap");
    expect_one_error_line(in_ns({MINIVMM_BINARY, "--net", "mvmq0"}), 3, "Tap mvmq0 is multi-queue");
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

TEST(Cli, HelpListsEveryDemoAndExitsZero) {
    auto r = run_process({MINIVMM_BINARY, "--help"});
    EXPECT_EQ(r.exit_code, 0);
    for (const char* demo : {"hello", "long", "ports", "status", "spin", "triple-fault"})
        EXPECT_NE(r.out.find(std::string("  ") + demo + " "), std::string::npos) << demo;
    EXPECT_NE(r.out.find("--trace-exits"), std::string::npos);
    EXPECT_NE(r.out.find("--stats"), std::string::npos);
    EXPECT_NE(r.out.find("--net"), std::string::npos);
    for (const char* option : {"--initrd", "--dump-dtb", "--cpus"})
        EXPECT_NE(r.out.find(option), std::string::npos) << option;
}

// Runs `argv` with stdout a pipe nobody reads (the reader is closed) and SIGPIPE at its default
// action, as a shell would leave it; returns the wait status.
int run_with_closed_stdout(const std::vector<std::string>& argv) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return -1;
    ::close(p[0]);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(p[1], STDOUT_FILENO);
        int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, STDERR_FILENO);
        std::signal(SIGPIPE, SIG_DFL);   // an ignored SIGPIPE would be inherited through exec
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(p[1]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

// SIGPIPE, the part that needs no guest: minivmm ignores SIGPIPE from its first instruction,
// so writing to a closed stdout (here --help's text) gives EPIPE, not death.
TEST(Cli, ClosedStdoutDoesNotKillIt) {
    int control = run_with_closed_stdout({"/bin/echo", "hello"});
    ASSERT_TRUE(WIFSIGNALED(control) && WTERMSIG(control) == SIGPIPE)
        << "the set-up must kill a program that does not ignore SIGPIPE";
    int status = run_with_closed_stdout({MINIVMM_BINARY, "--help"});
    EXPECT_FALSE(WIFSIGNALED(status)) << "killed by signal " << WTERMSIG(status);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(Cli, VersionPrintsVersion) {
    auto r = run_process({MINIVMM_BINARY, "--version"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.rfind("minivmm ", 0), 0u) << r.out;
}

} // namespace
