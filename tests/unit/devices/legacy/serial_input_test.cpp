// Unit tests for SerialInput (devices/legacy/serial_input.hpp) on a real EventLoop, pipes and
// files: input reaches the UART, back-pressure leaves the rest in the host pipe (nothing is
// buffered elsewhere), reading resumes when the guest drains the FIFO, EOF, and the escape.
#include "legacy/serial_input.hpp"

#include <fcntl.h>
#include <string>
#include <sys/ioctl.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "counting_irq_line.hpp"

namespace minivmm {
namespace {

constexpr uint64_t RBR = 0, IER = 1;

struct Fixture {
    Fixture() {
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
        ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
        ::fcntl(fds[1], F_SETPIPE_SZ, 256 * 1024);
        auto l = EventLoop::create();
        EXPECT_TRUE(l);
        loop = std::move(*l);
    }
    ~Fixture() {
        input.reset();
        for (int fd : fds)
            if (fd >= 0) ::close(fd);
    }
    void start(int fd, SerialInput::Options options = {}) {
        auto in = SerialInput::create(*loop, fd, serial, std::move(options));
        ASSERT_TRUE(in) << in.error().message();
        input = std::move(*in);
    }
    void feed(const std::string& s) {
        ASSERT_EQ(::write(fds[1], s.data(), s.size()), static_cast<ssize_t>(s.size()));
    }
    void close_writer() {
        ::close(fds[1]);
        fds[1] = -1;
    }
    // Runs the loop until it has nothing more to do.
    void settle() {
        for (int quiet = 0, i = 0; quiet < 2 && i < 10000; ++i) quiet = loop->run_once(20) ? 0 : quiet + 1;
    }
    uint8_t guest_read() {
        uint8_t b = 0;
        serial.read(RBR, std::span<uint8_t>(&b, 1));
        return b;
    }
    std::string guest_read_all() {
        std::string s;
        while (serial.rx_level() > 0) s += static_cast<char>(guest_read());
        return s;
    }
    int pipe_backlog() {
        int n = 0;
        ::ioctl(fds[0], FIONREAD, &n);
        return n;
    }

    int fds[2] = {-1, -1};
    std::unique_ptr<EventLoop> loop;
    std::shared_ptr<CountingIrqLine> irq = std::make_shared<CountingIrqLine>();
    Serial16550 serial{[](uint8_t) {}, irq};
    std::unique_ptr<SerialInput> input;
};

std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
}

TEST(SerialInput, BytesReachTheGuestAndRaiseTheInterrupt) {
    Fixture f;
    const uint8_t rda = 0x01;
    f.serial.write(IER, std::span<const uint8_t>(&rda, 1));
    f.start(f.fds[0]);
    f.feed("hi\n");
    f.settle();
    EXPECT_TRUE(f.irq->level);
    EXPECT_EQ(f.guest_read_all(), "hi\n");
    EXPECT_FALSE(f.irq->level);
    EXPECT_EQ(f.input->bytes_read(), 3u);
}

TEST(SerialInput, FullFifoLeavesTheRestInThePipe) {
    Fixture f;
    f.start(f.fds[0]);
    const size_t extra = 50000;
    const std::string data = pattern(Serial16550::RX_FIFO_LIMIT + extra);
    f.feed(data);
    f.settle();
    EXPECT_EQ(f.serial.rx_level(), Serial16550::RX_FIFO_LIMIT);
    EXPECT_TRUE(f.input->paused());
    EXPECT_EQ(f.input->bytes_read(), Serial16550::RX_FIFO_LIMIT) << "read no more than fits";
    EXPECT_EQ(f.pipe_backlog(), static_cast<int>(extra)) << "the rest waits in the host pipe";
    EXPECT_EQ(f.loop->run_once(50), 0) << "paused: the loop is idle, not spinning";
}

TEST(SerialInput, ResumesWhenTheGuestDrainsAndLosesNothing) {
    Fixture f;
    f.start(f.fds[0]);
    const std::string data = pattern(5 * Serial16550::RX_FIFO_LIMIT + 123);
    f.feed(data);
    std::string received;
    for (int round = 0; round < 100 && received.size() < data.size(); ++round) {
        f.settle();
        // The guest reads half the FIFO at a time, like an interrupt handler's burst.
        for (size_t i = 0; i < Serial16550::RX_FIFO_LIMIT / 2 && f.serial.rx_level() > 0; ++i)
            received += static_cast<char>(f.guest_read());
    }
    EXPECT_EQ(received, data);
    EXPECT_EQ(f.input->bytes_lost(), 0u);
    EXPECT_FALSE(f.input->paused());
}

TEST(SerialInput, EndOfInputStopsReading) {
    Fixture f;
    f.start(f.fds[0]);
    f.feed("last");
    f.close_writer();
    f.settle();
    EXPECT_TRUE(f.input->finished());
    EXPECT_EQ(f.guest_read_all(), "last");
    EXPECT_EQ(f.loop->run_once(20), 0);
}

TEST(SerialInput, HangupWhilePausedDoesNotSpin) {
    Fixture f;
    f.start(f.fds[0]);
    f.feed(pattern(Serial16550::RX_FIFO_LIMIT + 10));
    f.settle();
    ASSERT_TRUE(f.input->paused());
    f.close_writer();
    EXPECT_EQ(f.loop->run_once(50), 0);
    f.guest_read_all();
    f.settle();
    EXPECT_TRUE(f.input->finished());
    EXPECT_EQ(f.guest_read_all(), pattern(Serial16550::RX_FIFO_LIMIT + 10).substr(Serial16550::RX_FIFO_LIMIT));
}

TEST(SerialInput, RegularFileIsReadAsTheFifoDrains) {
    Fixture f;
    char path[] = "/tmp/minivmm-input-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    const std::string data = pattern(3 * Serial16550::RX_FIFO_LIMIT + 7);
    ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    ::lseek(fd, 0, SEEK_SET);
    f.start(fd);   // epoll refuses regular files: the fallback path
    std::string received;
    for (int round = 0; round < 100 && !f.input->finished(); ++round) {
        f.settle();
        EXPECT_LE(f.serial.rx_level(), Serial16550::RX_FIFO_LIMIT);
        received += f.guest_read_all();
    }
    f.settle();
    received += f.guest_read_all();
    EXPECT_EQ(received, data);
    EXPECT_TRUE(f.input->finished());
    ::close(fd);
    ::unlink(path);
}

TEST(SerialInput, DevNullIsAnEmptyInput) {
    Fixture f;
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    f.start(fd);
    f.settle();
    EXPECT_TRUE(f.input->finished());
    EXPECT_EQ(f.serial.rx_level(), 0u);
    ::close(fd);
}

TEST(SerialInput, EscapeQuitsAndKeepsEarlierBytes) {
    Fixture f;
    int quits = 0;
    SerialInput::Options options;
    options.escape = true;
    options.on_quit = [&] { ++quits; };
    f.start(f.fds[0], options);
    f.feed("ok\x01\x01!\x01xignored");
    f.settle();
    EXPECT_EQ(quits, 1);
    EXPECT_TRUE(f.input->finished());
    EXPECT_EQ(f.guest_read_all(), "ok\x01!");
}

TEST(SerialInput, EscapePauseCallsOnPauseEachTimeAndInputGoesOn) {
    Fixture f;
    int pauses = 0;
    SerialInput::Options options;
    options.escape = true;
    options.on_pause = [&] { ++pauses; };
    f.start(f.fds[0], options);
    f.feed("a\x01pb\x01P");
    f.settle();
    EXPECT_EQ(pauses, 2);
    EXPECT_FALSE(f.input->finished());
    EXPECT_EQ(f.guest_read_all(), "ab");
}

TEST(SerialInput, WithoutEscapeCtrlAIsData) {
    Fixture f;
    f.start(f.fds[0]);
    f.feed("\x01x");
    f.settle();
    EXPECT_FALSE(f.input->finished());
    EXPECT_EQ(f.guest_read_all(), "\x01x");
}

TEST(SerialInput, EscapeHelpGoesToTheHelpDescriptor) {
    Fixture f;
    int help[2];
    ASSERT_EQ(::pipe2(help, O_CLOEXEC | O_NONBLOCK), 0);
    SerialInput::Options options;
    options.escape = true;
    options.help_fd = help[1];
    f.start(f.fds[0], options);
    f.feed("\x01h");
    f.settle();
    char buf[512] = {};
    EXPECT_GT(::read(help[0], buf, sizeof buf - 1), 0);
    EXPECT_NE(std::string(buf).find("C-a x"), std::string::npos);
    EXPECT_EQ(f.serial.rx_level(), 0u);
    ::close(help[0]);
    ::close(help[1]);
}

} // namespace
} // namespace minivmm
