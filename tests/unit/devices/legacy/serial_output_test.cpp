// Unit tests for SerialOutput (devices/legacy/serial_output.hpp): guest output never blocks;
// what cannot be written now is reported as Full (try again) or Broken (never).
#include "legacy/serial_output.hpp"

#include <csignal>
#include <fcntl.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "test_pipe.hpp"

namespace minivmm {
namespace {

using Pipe = test::TestPipe;

using Stop = SerialOutput::Progress::Stop;

SerialOutput::Progress write_text(SerialOutput& out, const std::string& text) {
    return out.write({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

TEST(SerialOutput, WritesBytesInOrder) {
    Pipe p;
    auto out = SerialOutput::for_fd(p.fds[1]);
    ASSERT_TRUE(out);
    auto progress = write_text(**out, "hello\n");
    EXPECT_EQ(progress.written, 6u);
    EXPECT_EQ(progress.stop, Stop::None);
    EXPECT_EQ(p.drain(), "hello\n");
}

TEST(SerialOutput, LeavesTheCallersDescriptorBlocking) {
    Pipe p;
    auto out = SerialOutput::for_fd(p.fds[1]);
    ASSERT_TRUE(out);
    EXPECT_EQ(::fcntl(p.fds[1], F_GETFL) & O_NONBLOCK, 0)
        << "the shell's stdout must keep its blocking mode";
}

TEST(SerialOutput, StoppedReaderIsFullInsteadOfBlocking) {
    Pipe p;   // nobody reads: the pipe fills up like a SIGSTOPped reader's
    ASSERT_GT(::fcntl(p.fds[1], F_SETPIPE_SZ, 4096), 0);
    auto out = SerialOutput::for_fd(p.fds[1]);
    ASSERT_TRUE(out);
    const std::string big(4 * static_cast<size_t>(::fcntl(p.fds[1], F_GETPIPE_SZ)), 'x');
    auto progress = write_text(**out, big);   // would hang if it blocked
    EXPECT_EQ(progress.stop, Stop::Full);
    EXPECT_GT(progress.written, 0u);
    EXPECT_LT(progress.written, big.size());
    EXPECT_EQ(p.drain().size(), progress.written);
    progress = write_text(**out, "y");   // room again: writes resume
    EXPECT_EQ(progress.stop, Stop::None);
    EXPECT_EQ(p.drain(), "y");
}

TEST(SerialOutput, GoneReaderIsBrokenWithoutSigpipe) {
    struct sigaction ignore {}, old{};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old);   // as minivmm_main does
    Pipe p;
    auto out = SerialOutput::for_fd(p.fds[1]);
    ASSERT_TRUE(out);
    ::close(p.fds[0]);
    p.fds[0] = -1;
    auto progress = write_text(**out, "ab");
    EXPECT_EQ(progress.written, 0u);
    EXPECT_EQ(progress.stop, Stop::Broken);
    ::sigaction(SIGPIPE, &old, nullptr);
}

TEST(SerialOutput, SocketIsSentToWithoutWaiting) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    auto out = SerialOutput::for_fd(sv[0]);   // /proc/self/fd cannot reopen a socket
    ASSERT_TRUE(out);
    EXPECT_EQ(::fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0) << "the caller's socket stays blocking";
    const std::string chunk(64 * 1024, 's');
    SerialOutput::Progress progress;
    uint64_t total = 0;
    for (int i = 0; i < 256 && progress.stop == Stop::None; ++i) {
        progress = write_text(**out, chunk);   // would hang on a full socket if it waited
        total += progress.written;
    }
    EXPECT_EQ(progress.stop, Stop::Full) << "a full socket buffer is Full, not a wait";
    EXPECT_GT(total, 0u);
    char buf[16];
    EXPECT_EQ(::read(sv[1], buf, sizeof buf), static_cast<ssize_t>(sizeof buf));
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
        EXPECT_EQ(write_text(**out, "new").written, 3u);
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
    write_text(**out, "a");
    ASSERT_EQ(::write(fd, "b", 1), 1);
    write_text(**out, "c");
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

TEST(SerialOutput, DiscardTakesEverything) {
    auto out = SerialOutput::discard();
    EXPECT_TRUE(out->discards());
    EXPECT_EQ(out->fd(), -1);
    auto progress = write_text(*out, "abc");
    EXPECT_EQ(progress.written, 3u);
    EXPECT_EQ(progress.stop, Stop::None);
}

} // namespace
} // namespace minivmm
