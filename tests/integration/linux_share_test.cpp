// virtio-9p used by Linux's own 9p client (9pnet_virtio, mount -t 9p): a read-only and a
// writable share of temporary host directories. /init (minivmm.p9test=RO,RW) checksums the
// read-only tree, follows a symlink in it, tries every kind of write there (each must fail with
// EROFS), and creates, renames, removes and writes on the writable one; the host compares.
// Needs hardware virtualisation, like the LinuxGuest suites (tools/test runs it inside
// tools/kvm-in-qemu on hosts without it). The run is confined (seccomp is on by default), so
// the 9p server's calls pass the I/O thread's filter of a machine with shares.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "linux_images.hpp"
#include "run_process.hpp"

namespace {

namespace fs = std::filesystem;
using minivmm::test::file_bytes;
using minivmm::test::has;
using minivmm::test::images_dir;
using minivmm::test::run_process;

std::string sh(const std::string& command) {
    return run_process({"/bin/sh", "-c", command}, 120).out;
}

// What `find . -type f | sort | xargs sha256sum` prints in `dir` (the guest runs the same).
std::string sums(const fs::path& dir) {
    return sh("cd '" + dir.string() + "' && find . -type f | sort | xargs sha256sum");
}

// The lines of `out` that start with `prefix`, without it.
std::string lines_with(const std::string& out, const std::string& prefix) {
    std::istringstream in(out);
    std::string line, got;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.rfind(prefix, 0) == 0) got += line.substr(prefix.size()) + "\n";
    }
    return got;
}

struct Dirs {
    Dirs() {
        char tmpl[] = "/tmp/minivmm-share-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
        base = tmpl;
        fs::create_directories(ro() / "dir/deeper/deepest");
        fs::create_directories(rw());
        std::ofstream(ro() / "small") << "small file\n";
        std::ofstream(ro() / "empty");
        std::ofstream(ro() / "dir/target") << "what the link points at\n";
        std::ofstream(ro() / "dir/deeper/deepest/leaf") << "leaf\n";
        fs::create_symlink("dir/target", ro() / "link");
        // Files around the page and msize boundaries, and one of several messages.
        sh("cd '" + ro().string() + "' && head -c 4095 /dev/urandom > page-1 && "
           "head -c 4096 /dev/urandom > page && head -c 131072 /dev/urandom > msize && "
           "head -c 3000000 /dev/urandom > big");
        std::ofstream(rw() / "to-rename") << "rename me\n";
        std::ofstream(rw() / "to-delete") << "delete me\n";
    }
    ~Dirs() {
        std::error_code ec;
        fs::remove_all(base, ec);
    }
    fs::path ro() const { return base / "ro"; }
    fs::path rw() const { return base / "rw"; }
    fs::path base;
};

TEST(LinuxGuestShare, LinuxReadsAReadOnlyShareAndWritesARwOne) {
    REQUIRE_FULL_LINUX();
    Dirs dirs;
    const std::string ro_before = sums(dirs.ro());
    const std::string ro_listing = sh("cd '" + dirs.ro().string() + "' && ls -laR");
    ASSERT_NE(ro_before.find("./big"), std::string::npos) << ro_before;
    auto r = run_process(
        {MINIVMM_BINARY, "--kernel", (images_dir() / "kernel/bzImage").string(), "--initrd",
         (images_dir() / "initramfs/initramfs.cpio.gz").string(), "--mem", "256M", "--timeout",
         "240", "--stats", "--share", dirs.ro().string() + ",tag=roshare", "--share",
         dirs.rw().string() + ",rw,tag=rwshare", "--cmdline",
         "console=ttyS0 minivmm.action=poweroff minivmm.disk=none minivmm.p9test=roshare,rwshare"},
        300);
    ASSERT_FALSE(r.timed_out) << r.out << r.err;
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "MINIVMM-P9-OK")) << r.out;
    EXPECT_FALSE(has(r.out, "MINIVMM-P9-BAD")) << r.out;
    EXPECT_TRUE(has(r.out, "MINIVMM-P9-RO-OK")) << r.out;
    EXPECT_TRUE(has(r.out, "MINIVMM-POWEROFF")) << r.out;
    // The read-only tree as Linux read it, and unchanged.
    EXPECT_EQ(lines_with(r.out, "MINIVMM-P9-SUM "), ro_before) << r.out;
    EXPECT_EQ(sums(dirs.ro()), ro_before);
    EXPECT_EQ(sh("cd '" + dirs.ro().string() + "' && ls -laR"), ro_listing);
    // What Linux did on the writable share.
    EXPECT_EQ(file_bytes(dirs.rw() / "created.txt"), "made by the guest\n");
    EXPECT_EQ(file_bytes(dirs.rw() / "newdir/inner.txt"), "inner\n");
    EXPECT_EQ(file_bytes(dirs.rw() / "renamed"), "rename me\n");
    EXPECT_FALSE(fs::exists(dirs.rw() / "to-rename"));
    EXPECT_FALSE(fs::exists(dirs.rw() / "to-delete"));
    EXPECT_TRUE(fs::is_symlink(dirs.rw() / "link.txt"));
    EXPECT_EQ(fs::read_symlink(dirs.rw() / "link.txt"), "created.txt");
    const std::string big = sh("sha256sum < '" + (dirs.rw() / "big.bin").string() + "'");
    ASSERT_GE(big.size(), 64u);
    EXPECT_TRUE(has(r.out, "MINIVMM-P9-BIG " + big.substr(0, 64))) << r.out;
    EXPECT_EQ(fs::file_size(dirs.rw() / "big.bin"), 1048576u);
    EXPECT_TRUE(has(r.out, "link -> dir/target")) << r.out;   // ls -l of the read-only share
    EXPECT_TRUE(has(r.err, "share0 (" + dirs.ro().string() + " as 'roshare')")) << r.err;
    // For the log: the msize each mount got, and the device's counts.
    std::printf("%s%s", lines_with(r.out, "roshare ").c_str(), lines_with(r.out, "rwshare ").c_str());
    std::printf("%s", lines_with(r.err, "  ").c_str());
}

} // namespace
