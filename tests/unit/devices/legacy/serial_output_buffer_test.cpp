// Unit tests for SerialOutputBuffer (devices/legacy/serial_output_buffer.hpp): no write per
// byte, the loop's flush within the delay and its timer stopping when idle, order kept, bounded
// memory with a stopped reader, and nothing lost at the end (flush_at_exit, the destructor).
#include "legacy/serial_output_buffer.hpp"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <string>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "test_pipe.hpp"

namespace minivmm {
namespace {

using namespace std::chrono_literals;

using Pipe = test::TestPipe;

// Bytes whose order shows: a period (251) that no ring size here divides.
std::string sequence(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 251);
    return s;
}

std::unique_ptr<SerialOutputBuffer> buffer_on(int fd, SerialOutputBuffer::Tuning tuning = {}) {
    auto out = SerialOutput::for_fd(fd);
    EXPECT_TRUE(out);
    auto buffer = SerialOutputBuffer::create(std::move(*out), tuning);
    EXPECT_TRUE(buffer) << buffer.error().message();
    return std::move(*buffer);
}

void put_all(SerialOutputBuffer& b, const std::string& s) {
    for (char c : s) b.put(static_cast<uint8_t>(c));
}

TEST(SerialOutputBuffer, PutMakesNoWriteOfItsOwn) {
    Pipe p;
    auto b = buffer_on(p.fds[1]);
    put_all(*b, "abc");
    EXPECT_EQ(p.drain(), "") << "a byte must not cost a write(2)";
    EXPECT_EQ(b->buffered(), 3u);
    EXPECT_EQ(b->written(), 0u);
    b->flush();
    EXPECT_EQ(p.drain(), "abc");
    EXPECT_EQ(b->written(), 3u);
    EXPECT_EQ(b->buffered(), 0u);
}

TEST(SerialOutputBuffer, TheLoopFlushesAfterTheDelayThenItsTimerStops) {
    Pipe p;
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop);
    auto b = buffer_on(p.fds[1], {.capacity = 64, .flush_delay = 2ms, .exit_wait = 1000ms});
    b->put('a');   // before attach: flushed once attached
    ASSERT_TRUE(b->attach(**loop));
    b->put('b');
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ((*loop)->run_once(5000), 1) << "the flush timer fires";
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
    EXPECT_EQ(p.drain(), "ab");
    b->put('c');   // output that keeps coming: the timer still runs, no new start needed
    EXPECT_EQ((*loop)->run_once(5000), 1);
    EXPECT_EQ(p.drain(), "c");
    EXPECT_EQ((*loop)->run_once(5000), 1) << "one tick that finds nothing";
    EXPECT_EQ((*loop)->run_once(50), 0) << "then the timer stops: an idle console costs nothing";
    b->put('d');   // and the next byte starts it again
    EXPECT_EQ((*loop)->run_once(5000), 1);
    EXPECT_EQ(p.drain(), "d");
}

TEST(SerialOutputBuffer, AFullRingIsWrittenOutInOrderByTheWriter) {
    Pipe p;
    auto b = buffer_on(p.fds[1], {.capacity = 8, .flush_delay = 2ms, .exit_wait = 1000ms});
    const std::string seq = sequence(1000);
    for (char c : seq) {
        b->put(static_cast<uint8_t>(c));
        ASSERT_LE(b->buffered(), 8u);
    }
    b->flush_at_exit();
    EXPECT_EQ(p.drain(), seq);
    EXPECT_EQ(b->written(), seq.size());
    EXPECT_EQ(b->dropped(), 0u);
}

TEST(SerialOutputBuffer, StoppedReaderBoundsMemoryAndLosesOnlyWhatDoesNotFit) {
    Pipe p;   // nobody reads until the end: a SIGSTOPped pager
    ASSERT_GT(::fcntl(p.fds[1], F_SETPIPE_SZ, 4096), 0);
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop);
    auto b = buffer_on(p.fds[1], {.capacity = 1024, .flush_delay = 2ms, .exit_wait = 1000ms});
    ASSERT_TRUE(b->attach(**loop));
    const std::string seq = sequence(20000);
    for (char c : seq) {
        b->put(static_cast<uint8_t>(c));   // would hang if anything waited for the reader
        ASSERT_LE(b->buffered(), 1024u);
        while ((*loop)->run_once(0) > 0) {}
    }
    EXPECT_EQ(b->buffered(), 1024u) << "what the pipe cannot take is kept, up to the capacity";
    EXPECT_EQ(b->written() + b->dropped() + b->buffered(), seq.size());
    EXPECT_GT(b->dropped(), 0u);
    std::string out = p.drain();   // the reader wakes up
    EXPECT_EQ((*loop)->run_once(5000), 1) << "the loop writes the kept bytes when there is room";
    out += p.drain();
    EXPECT_EQ(b->buffered(), 0u);
    EXPECT_EQ(out.size(), b->written());
    EXPECT_EQ(out, seq.substr(0, out.size())) << "in order, with the gap at the end";
    EXPECT_EQ(b->dropped(), seq.size() - out.size());
    EXPECT_EQ((*loop)->run_once(50), 0) << "no more watching once the reader keeps up";
}

TEST(SerialOutputBuffer, GoneReaderDropsAndCountsWithoutSigpipe) {
    struct sigaction ignore {}, old{};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ignore, &old);   // as minivmm_main does
    Pipe p;
    auto b = buffer_on(p.fds[1]);
    ::close(std::exchange(p.fds[0], -1));
    put_all(*b, "ab");
    b->flush();
    EXPECT_EQ(b->dropped(), 2u);
    EXPECT_EQ(b->written(), 0u);
    EXPECT_EQ(b->buffered(), 0u);
    ::sigaction(SIGPIPE, &old, nullptr);
}

TEST(SerialOutputBuffer, FlushAtExitWaitsForASlowReader) {
    Pipe p;
    ASSERT_GT(::fcntl(p.fds[1], F_SETPIPE_SZ, 4096), 0);
    auto b = buffer_on(p.fds[1], {.capacity = 64 * 1024, .flush_delay = 2ms, .exit_wait = 10s});
    const std::string seq = sequence(20000);
    put_all(*b, seq);
    std::string got;
    std::thread reader([&] {
        std::this_thread::sleep_for(100ms);   // busy when the VM ends
        char buf[512];
        ssize_t n;
        while ((n = ::read(p.fds[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
    });
    b->flush_at_exit();
    EXPECT_EQ(b->written(), seq.size());
    EXPECT_EQ(b->dropped(), 0u);
    b.reset();
    ::close(std::exchange(p.fds[1], -1));   // end of file for the reader
    reader.join();
    EXPECT_EQ(got, seq);
}

TEST(SerialOutputBuffer, FlushAtExitGivesUpOnAStoppedReader) {
    Pipe p;
    ASSERT_GT(::fcntl(p.fds[1], F_SETPIPE_SZ, 4096), 0);
    auto b = buffer_on(p.fds[1], {.capacity = 64 * 1024, .flush_delay = 2ms, .exit_wait = 100ms});
    put_all(*b, sequence(10000));
    const auto t0 = std::chrono::steady_clock::now();
    b->flush_at_exit();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    EXPECT_EQ(b->buffered(), 0u);
    EXPECT_GT(b->dropped(), 0u);
    EXPECT_EQ(b->written() + b->dropped(), 10000u);
    EXPECT_EQ(p.drain().size(), b->written());
}

TEST(SerialOutputBuffer, TheDestructorWritesWhatIsLeft) {
    Pipe p;
    auto b = buffer_on(p.fds[1]);
    put_all(*b, "bye\n");
    b.reset();
    EXPECT_EQ(p.drain(), "bye\n");
}

TEST(SerialOutputBuffer, DiscardKeepsAndCountsNothing) {
    auto b = SerialOutputBuffer::create(SerialOutput::discard());
    ASSERT_TRUE(b);
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop);
    ASSERT_TRUE((*b)->attach(**loop));
    put_all(**b, "abc");
    EXPECT_EQ((*b)->buffered(), 0u);
    EXPECT_EQ((*b)->written(), 0u);
    EXPECT_EQ((*b)->dropped(), 0u);
    EXPECT_EQ((*loop)->run_once(50), 0) << "no timer for discarded output";
}

TEST(SerialOutputBuffer, RefusesAnEmptyRing) {
    EXPECT_FALSE(SerialOutputBuffer::create(SerialOutput::discard(), {.capacity = 0}));
}

} // namespace
} // namespace minivmm
