// The console's host ends on real descriptors: a file appended to, a pipe as input, a unix
// socket with clients coming and going.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "console/fd_host.hpp"
#include "console/socket_host.hpp"
#include "recording_event_sources.hpp"

namespace minivmm::console {
namespace {

std::span<const uint8_t> bytes(const char* s) {
    return {reinterpret_cast<const uint8_t*>(s), std::strlen(s)};
}

struct TempDir {
    TempDir() {
        char tmpl[] = "/tmp/minivmm-console-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf " + path).c_str()); }
    std::string path;
};

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

UniqueFd connect_to(const std::string& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) return {};
    return fd;
}

TEST(ConsoleFileHost, AppendsToWhatTheFileHeldAndHasNoInput) {
    TempDir dir;
    const std::string path = dir.path + "/out";
    { std::ofstream(path) << "before\n"; }
    auto host = FdHost::append_file(path);
    ASSERT_TRUE(host) << host.error().message();
    auto sent = (*host)->write(bytes("guest\n"));
    EXPECT_EQ(sent.delivered, 6u);
    EXPECT_EQ(sent.dropped, 0u);
    uint8_t buf[8];
    EXPECT_EQ((*host)->read(buf), 0u);
    EXPECT_EQ(slurp(path), "before\nguest\n");
    EXPECT_EQ((*host)->name(), "file=" + path);
}

TEST(ConsoleFileHost, AnUnopenableFileIsAnInputErrorNamingIt) {
    auto host = FdHost::append_file("/nonexistent-dir/out");
    ASSERT_FALSE(host);
    EXPECT_EQ(host.error().code(), ErrorCode::Input);
    EXPECT_NE(host.error().message().find("/nonexistent-dir/out"), std::string::npos);
}

TEST(ConsoleFdHost, ReadsAPipeUntilItsEndAndThenStopsWatchingIt) {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    UniqueFd rd(p[0]), wr(p[1]);
    FdHost host(SerialOutput::discard(), std::move(rd), "pipe");   // no descriptor to watch
    test::RecordingEventSources events;
    uint8_t buf[16];
    EXPECT_EQ(host.read(buf), 0u);   // nothing yet (EAGAIN)
    host.update(events, true, false);
    EXPECT_EQ(events.current, uint32_t{EPOLLIN});
    ASSERT_EQ(::write(wr.get(), "hi", 2), 2);
    EXPECT_EQ(host.read(buf), 2u);
    wr.reset();
    EXPECT_EQ(host.read(buf), 0u);   // the end of input
    host.update(events, true, false);
    EXPECT_EQ(events.current, 0u);   // no longer watched, though the device wants input
}

TEST(ConsoleSocketHost, ServesOneClientAtATimeAndTheNextAfterItLeaves) {
    TempDir dir;
    const std::string path = dir.path + "/console.sock";
    auto listened = SocketHost::listen(path);
    ASSERT_TRUE(listened) << listened.error().message();
    SocketHost& host = **listened;
    test::RecordingEventSources events;
    host.update(events, true, false);   // the listener is watched while nobody is connected
    EXPECT_EQ(events.current, uint32_t{EPOLLIN});

    // Nobody connected: output is dropped, not held.
    auto sent = host.write(bytes("early"));
    EXPECT_EQ(sent.dropped, 5u);

    UniqueFd first = connect_to(path);
    ASSERT_TRUE(first.valid());
    host.poll();
    EXPECT_TRUE(host.connected());
    EXPECT_EQ(host.connections(), 1u);
    sent = host.write(bytes("to first"));
    EXPECT_EQ(sent.delivered, 8u);
    char buf[32] = {};
    EXPECT_EQ(::read(first.get(), buf, sizeof buf), 8);
    EXPECT_STREQ(buf, "to first");
    ASSERT_EQ(::write(first.get(), "typed", 5), 5);
    uint8_t in[32];
    EXPECT_EQ(host.read(in), 5u);

    // A second client waits in the backlog while the first is connected.
    UniqueFd second = connect_to(path);
    ASSERT_TRUE(second.valid());
    host.poll();
    EXPECT_EQ(host.connections(), 1u);

    first.reset();   // the first leaves: not an error
    EXPECT_EQ(host.read(in), 0u);
    EXPECT_FALSE(host.connected());
    host.update(events, true, false);
    host.poll();
    EXPECT_TRUE(host.connected());
    EXPECT_EQ(host.connections(), 2u);
    sent = host.write(bytes("to second"));
    EXPECT_EQ(sent.delivered, 9u);
    EXPECT_EQ(::read(second.get(), buf, sizeof buf), 9);
}

TEST(ConsoleSocketHost, AClientThatDoesNotReadFillsItAndNothingQueuesOnTheHost) {
    TempDir dir;
    const std::string path = dir.path + "/s";
    auto host = SocketHost::listen(path);
    ASSERT_TRUE(host);
    UniqueFd client = connect_to(path);
    (*host)->poll();
    ASSERT_TRUE((*host)->connected());
    const std::vector<uint8_t> chunk(64 * 1024, 'x');
    size_t total = 0;
    ConsoleHost::Sent sent;
    for (int i = 0; i < 1000; ++i) {
        sent = (*host)->write(chunk);
        total += sent.delivered;
        if (sent.delivered < chunk.size()) break;
    }
    EXPECT_LT(sent.delivered + sent.dropped, chunk.size());   // full, not dropped
    EXPECT_EQ(sent.dropped, 0u);
    EXPECT_LT(total, 64u * 1024 * 1000);
}

TEST(ConsoleSocketHost, ReplacesAStaleSocketButNotAnotherFile) {
    TempDir dir;
    const std::string path = dir.path + "/s";
    { auto first = SocketHost::listen(path); ASSERT_TRUE(first); }   // left behind
    auto again = SocketHost::listen(path);
    EXPECT_TRUE(again) << again.error().message();
    const std::string file = dir.path + "/f";
    { std::ofstream(file) << "x"; }
    auto refused = SocketHost::listen(file);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), ErrorCode::Input);
    EXPECT_EQ(slurp(file), "x");
}

} // namespace
} // namespace minivmm::console
