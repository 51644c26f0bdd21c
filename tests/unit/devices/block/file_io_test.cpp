// Tests of pread_full/pwrite_full with injected system-call behaviour.
#include "block/file_io.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

namespace minivmm::block {
namespace {

// The fake "file" and the script the fake syscalls follow.
std::vector<uint8_t> g_file(8192);
std::vector<ssize_t> g_script;   // per call: >0 at most that many bytes, 0 = EOF, <0 = -errno
size_t g_call = 0;

ssize_t next(size_t want) {
    ssize_t s = g_call < g_script.size() ? g_script[g_call] : static_cast<ssize_t>(want);
    ++g_call;
    if (s < 0) {
        errno = static_cast<int>(-s);
        return -1;
    }
    return std::min<ssize_t>(s, static_cast<ssize_t>(want));
}
ssize_t fake_pread(int, void* buf, size_t n, off_t off) {
    ssize_t r = next(n);
    if (r > 0) std::memcpy(buf, g_file.data() + off, static_cast<size_t>(r));
    return r;
}
ssize_t fake_pwrite(int, const void* buf, size_t n, off_t off) {
    ssize_t r = next(n);
    if (r > 0) std::memcpy(g_file.data() + off, buf, static_cast<size_t>(r));
    return r;
}

void script(std::vector<ssize_t> s) {
    g_script = std::move(s);
    g_call = 0;
}

TEST(FileIo, RetriesEintrAndCompletesShortTransfers) {
    for (size_t i = 0; i < g_file.size(); ++i) g_file[i] = static_cast<uint8_t>(i);
    std::vector<uint8_t> out(4096);
    script({-EINTR, 100, -EINTR, -EINTR, 1000, 1});
    ASSERT_TRUE(pread_full(0, out, 512, fake_pread));
    EXPECT_EQ(out[0], static_cast<uint8_t>(512));
    EXPECT_EQ(out[4095], static_cast<uint8_t>(512 + 4095));
    EXPECT_GT(g_call, 6u);

    std::vector<uint8_t> in(2048, 0x5a);
    script({7, -EINTR, 0x200});
    ASSERT_TRUE(pwrite_full(0, in, 4096, fake_pwrite));
    EXPECT_EQ(g_file[4096], 0x5a);
    EXPECT_EQ(g_file[4096 + 2047], 0x5a);
}

TEST(FileIo, ErrorsAndEndOfFileFail) {
    std::vector<uint8_t> buf(1024);
    script({100, -EIO});
    auto r = pread_full(0, buf, 0, fake_pread);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().sys_errno(), EIO);
    script({-ENOSPC});
    auto w = pwrite_full(0, buf, 0, fake_pwrite);
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().sys_errno(), ENOSPC);
    script({512, 0});   // short write then no progress: an error, never success
    EXPECT_FALSE(pwrite_full(0, buf, 0, fake_pwrite));
    script({0});
    EXPECT_FALSE(pread_full(0, buf, 0, fake_pread));
}

TEST(FileIo, GivesUpOnEndlessEintr) {
    std::vector<uint8_t> buf(512);
    script(std::vector<ssize_t>(MAX_EINTR_RETRIES + 1, -EINTR));
    EXPECT_FALSE(pread_full(0, buf, 0, fake_pread));
    EXPECT_EQ(g_call, size_t{MAX_EINTR_RETRIES});
}

} // namespace
} // namespace minivmm::block
