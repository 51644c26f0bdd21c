// Tests of FileBackend on real files: open errors, locking, I/O, flush,
// hole punching.
#include "block/file_backend.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace minivmm::block {
namespace {

class FileBackendTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/minivmm-blk-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
    }
    void TearDown() override { (void)std::system(("rm -rf " + dir).c_str()); }
    std::string image(uint64_t size, const std::string& name = "disk.img") {
        std::string path = dir + "/" + name;
        int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0600);
        EXPECT_GE(fd, 0);
        EXPECT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
        ::close(fd);
        return path;
    }
    std::string dir;
};

TEST_F(FileBackendTest, RefusesMissingDirectoryEmptyAndOddSizedImages) {
    struct Case {
        std::string path;
        const char* says;
    };
    std::string odd = image(1000, "odd.img");
    std::string empty = image(0, "empty.img");
    for (const Case& c : {Case{dir + "/missing.img", "Cannot open disk image"},
                          Case{dir, "is a directory"}, Case{empty, "is empty"},
                          Case{odd, "not a multiple of 512"},
                          Case{"/dev/null", "neither a regular file nor a block device"}}) {
        for (Access a : {Access::ReadWrite, Access::ReadOnly}) {
            auto b = FileBackend::open(c.path, a);
            ASSERT_FALSE(b) << c.path;
            EXPECT_EQ(b.error().code(), ErrorCode::Input);
            EXPECT_NE(b.error().message().find(c.says), std::string::npos) << b.error().message();
            EXPECT_NE(b.error().message().find(c.path), std::string::npos);
        }
    }
}

TEST_F(FileBackendTest, WritesReadsAndFlushes) {
    auto b = FileBackend::open(image(1 << 20), Access::ReadWrite);
    ASSERT_TRUE(b);
    EXPECT_EQ((*b)->size(), 1u << 20);
    std::vector<uint8_t> data(4096, 0x77), back(4096);
    ASSERT_TRUE((*b)->write_at(8192, data));
    ASSERT_TRUE((*b)->flush());
    ASSERT_TRUE((*b)->read_at(8192, back));
    EXPECT_EQ(back, data);
}

TEST_F(FileBackendTest, WriteZeroesAndDiscardLeaveZeroes) {
    std::string path = image(1 << 20);
    auto b = FileBackend::open(path, Access::ReadWrite);
    ASSERT_TRUE(b);
    std::vector<uint8_t> data(65536, 0x11), back(65536);
    ASSERT_TRUE((*b)->write_at(0, data));
    ASSERT_TRUE((*b)->write_zeroes(4096, 8192, true));
    ASSERT_TRUE((*b)->write_zeroes(16384, 4096, false));
    ASSERT_TRUE((*b)->read_at(0, back));
    EXPECT_EQ(back[4095], 0x11);
    EXPECT_EQ(back[4096], 0);
    EXPECT_EQ(back[12287], 0);
    EXPECT_EQ(back[12288], 0x11);
    EXPECT_EQ(back[16384], 0);
    EXPECT_EQ(back[20480], 0x11);
    ASSERT_TRUE((*b)->discard(32768, 32768));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 1 << 20);   // holes never change the size
}

// One writer; readers share; a writer and a reader exclude each other. OFD locks
// conflict between open file descriptions even inside one process.
TEST_F(FileBackendTest, LocksExclusiveForWritersSharedForReaders) {
    std::string path = image(1 << 20);
    {
        auto w = FileBackend::open(path, Access::ReadWrite);
        ASSERT_TRUE(w);
        auto w2 = FileBackend::open(path, Access::ReadWrite);
        ASSERT_FALSE(w2);
        EXPECT_NE(w2.error().message().find("Disk image " + path + " is locked"), std::string::npos)
            << w2.error().message();
        EXPECT_FALSE(FileBackend::open(path, Access::ReadOnly));
    }
    auto r1 = FileBackend::open(path, Access::ReadOnly);
    auto r2 = FileBackend::open(path, Access::ReadOnly);
    EXPECT_TRUE(r1);
    EXPECT_TRUE(r2);
    EXPECT_FALSE(FileBackend::open(path, Access::ReadWrite));
}

// The lock goes away with its holder, even when it is killed.
TEST_F(FileBackendTest, LockIsReleasedWhenTheHolderIsKilled) {
    std::string path = image(1 << 20);
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto w = FileBackend::open(path, Access::ReadWrite);
        char c = w ? 'y' : 'n';
        (void)!::write(ready[1], &c, 1);
        ::pause();
        ::_exit(0);
    }
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    EXPECT_EQ(c, 'y');
    EXPECT_FALSE(FileBackend::open(path, Access::ReadWrite));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(FileBackend::open(path, Access::ReadWrite));
    ::close(ready[0]);
    ::close(ready[1]);
}

// A host block device serves as a disk: its size comes from its end, not st_size (0). A loop
// device over an image stands for one (root and loop devices needed: CI runs as root).
TEST_F(FileBackendTest, AHostBlockDeviceIsADiskOfItsSize) {
    std::string path = image(3 << 20);
    std::string out = dir + "/losetup.out";
    if (::geteuid() != 0 ||
        std::system(("losetup -f --show " + path + " >" + out + " 2>&1").c_str()) != 0)
        GTEST_SKIP() << "no loop device here (needs root and the loop driver)";
    std::string loop;
    {
        FILE* f = std::fopen(out.c_str(), "r");
        ASSERT_NE(f, nullptr);
        char line[256] = {};
        ASSERT_NE(std::fgets(line, sizeof line, f), nullptr);
        std::fclose(f);
        loop = line;
        while (!loop.empty() && loop.back() == '\n') loop.pop_back();
    }
    {
        auto b = FileBackend::open(loop, Access::ReadWrite);
        ASSERT_TRUE(b) << b.error().message();
        EXPECT_EQ((*b)->size(), 3u << 20);
        std::vector<uint8_t> data(4096, 0x5a), back(4096);
        ASSERT_TRUE((*b)->write_at((3 << 20) - 4096, data));
        ASSERT_TRUE((*b)->flush());
        ASSERT_TRUE((*b)->read_at((3 << 20) - 4096, back));
        EXPECT_EQ(back, data);
    }
    EXPECT_EQ(std::system(("losetup -d " + loop).c_str()), 0);
    // What the device wrote is in the file beneath it.
    int fd = ::open(path.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    std::vector<uint8_t> back(4096);
    EXPECT_EQ(::pread(fd, back.data(), back.size(), (3 << 20) - 4096), 4096);
    ::close(fd);
    EXPECT_EQ(back, std::vector<uint8_t>(4096, 0x5a));
}

} // namespace
} // namespace minivmm::block
