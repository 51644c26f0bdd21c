// Unit tests for SerialOutput (devices/legacy/serial_output.hpp): guest output never blocks;
// what cannot be written is dropped and counted (test-catalogue PROC-03, PROC-04).
#include "legacy/serial_output.hpp"

#include <csignal>
#include <fcntl.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

struct Pipe {
    Pipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
    ~Pipe() {
        for (int fd : fds)
            if (fd >= 0) ::close(fd);
    }
    std::string drain() {
        std::string s;
        ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fds[0], buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
        return s;
    }
    int fds[2] = {-1, -1};
};

TEST(SerialOutput, WritesBytesInOrder) {
    Pipe p;
    auto out = SerialOutput::for_fd(p.fds[1]);
    ASSERT_TRUE(out);
    for (char c : std::string("hello\n")) (*out)->write(static_cast<uint8_t>(c));
    EXPECT_EQ(p.drain(), "hello\n");
    EXPECT_EQ((*out)->written(), 6u);
    EXPECT_EQ((*out)->dropped(), 0u);
}

TEST(SerialOutput, LeavesTheCallersDescriptorBlocking) {
    Pipe p;
    auto out = SerialOutput::for_fd(p.fds[1]);
    ASSERT_TRUE(out);
    EXPECT_EQ(::fcntl(p.fds[1], F_GETFL) & O_NONBLOCK, 0)
        << "the shell's stdout must keep its blocking mode";
}

TEST(SerialOutput, StoppedReaderDropsAndCountsInsteadOfBlocking) {
    Pipe p;   // nobody reads: the pipe fills up like a SIGSTOPped reader's
    ASSERT_GT(::fcntl(p.fds[1], F_SETPIPE_SZ, 4096), 0);
    auto out = SerialOutput::for_fd(p.fds[1]);
    ASSERT_TRUE(out);
    const uint64_t total = 4 * static_cast<uint64_t>(::fcntl(p.fds[1], F_GETPIPE_SZ));
    for (uint64_t i = 0; i < total; ++i) (*out)->write('x');   // would hang if it blocked
    EXPECT_EQ((*out)->written() + (*out)->dropped(), total);
    EXPECT_GT((*out)->dropped(), 0u);
    EXPECT_GT((*out)->written(), 0u);
    EXPECT_EQ(p.drain().size(), (*out)->written());
    (*out)->write('y');   // room again: writes resume
    EXPECT_EQ(p.drain(), "y");
}

TEST(SerialOutput, GoneReaderDropsWithoutSigpipe) {
    struct sigaction ignore {}, old{};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old);   // as minivmm_main does
    Pipe p;
    auto out = SerialOutput::for_fd(p.fds[1]);
    ASSERT_TRUE(out);
    ::close(p.fds[0]);
    p.fds[0] = -1;
    (*out)->write('a');
    (*out)->write('b');
    EXPECT_EQ((*out)->dropped(), 2u);
    EXPECT_EQ((*out)->written(), 0u);
    ::sigaction(SIGPIPE, &old, nullptr);
}

TEST(SerialOutput, SocketIsWrittenOnlyWhenThereIsRoom) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    auto out = SerialOutput::for_fd(sv[0]);   // /proc/self/fd cannot reopen a socket: poll first
    ASSERT_TRUE(out);
    EXPECT_EQ(::fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0) << "the caller's socket stays blocking";
    const uint64_t total = 4 * 1024 * 1024;
    for (uint64_t i = 0; i < total && (*out)->dropped() == 0; ++i) (*out)->write('s');
    EXPECT_GT((*out)->dropped(), 0u) << "a full socket buffer drops instead of blocking";
    EXPECT_GT((*out)->written(), 0u);
    ::close(sv[0]);
    ::close(sv[1]);
}

TEST(SerialOutput, FileIsCreatedTruncatedAndWritten) {
    char path[] = "/tmp/minivmm-serial-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "old contents", 12), 12);
    ::close(fd);
    {
        auto out = SerialOutput::open_file(path);
        ASSERT_TRUE(out);
        for (char c : std::string("new")) (*out)->write(static_cast<uint8_t>(c));
    }
    char buf[32] = {};
    fd = ::open(path, O_RDONLY);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(::read(fd, buf, sizeof buf), 3);
    EXPECT_STREQ(buf, "new");
    ::close(fd);
    ::unlink(path);
}

TEST(SerialOutput, RegularFileStdoutSharesTheOffset) {
    // `minivmm > log 2>&1`: our writes and stderr's must not overwrite each other.
    char path[] = "/tmp/minivmm-serial-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    auto out = SerialOutput::for_fd(fd);
    ASSERT_TRUE(out);
    (*out)->write('a');
    ASSERT_EQ(::write(fd, "b", 1), 1);
    (*out)->write('c');
    char buf[8] = {};
    EXPECT_EQ(::pread(fd, buf, sizeof buf, 0), 3);
    EXPECT_STREQ(buf, "abc");
    ::close(fd);
    ::unlink(path);
}

TEST(SerialOutput, UnwritableFileIsAnInputError) {
    auto out = SerialOutput::open_file("/nonexistent-dir/console.log");
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code(), ErrorCode::Input);
    EXPECT_NE(out.error().message().find("/nonexistent-dir/console.log"), std::string::npos);
}

TEST(SerialOutput, DiscardCountsNothing) {
    auto out = SerialOutput::discard();
    out->write('a');
    EXPECT_EQ(out->written(), 0u);
    EXPECT_EQ(out->dropped(), 0u);
}

} // namespace
} // namespace minivmm
