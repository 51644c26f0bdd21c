#include "net/passt.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace minivmm::net {
namespace {

bool have_passt() { return ::system("command -v passt >/dev/null 2>&1") == 0; }

TEST(Passt, ArgumentsRunItInTheForegroundOnTheFdWithTheForwards) {
    HostForward tcp{false, "", 8080, 80}, udp{true, "127.0.0.1", 5353, 53};
    EXPECT_EQ(passt_arguments({tcp, udp}, "/tmp/passt.log", 3),
              (std::vector<std::string>{"passt", "--foreground", "--quiet", "--one-off", "--fd",
                                        "3", "--log-file", "/tmp/passt.log", "-t", "8080:80",
                                        "-u", "127.0.0.1/5353:53"}));
    EXPECT_EQ(passt_arguments({}, "", 3).size(), 6u);
}

// A real passt: it runs on its end of the socket, and exits once ours is closed (--one-off),
// so it never outlives minivmm.
TEST(Passt, StartsAndExitsWhenItsSocketCloses) {
    if (!have_passt()) GTEST_SKIP() << "passt is not installed (Debian package passt)";
    auto p = start_passt({}, "/dev/null");
    ASSERT_TRUE(p) << p.error().message();
    EXPECT_GT(p->pid, 0);
    ::usleep(200'000);
    EXPECT_EQ(::waitpid(p->pid, nullptr, WNOHANG), 0) << "passt exited at once";
    p->socket.reset();
    int status = -1;
    for (int i = 0; i < 100 && ::waitpid(p->pid, &status, WNOHANG) == 0; ++i) ::usleep(50'000);
    ASSERT_TRUE(WIFEXITED(status)) << "passt did not exit within 5 s of the close";
}

TEST(Passt, AMissingProgramIsOneClearError) {
    const char* old = ::getenv("PATH");
    const std::string saved = old ? old : "";
    ::setenv("PATH", "/nonexistent", 1);
    auto p = start_passt({}, "");
    ::setenv("PATH", saved.c_str(), 1);
    ASSERT_FALSE(p);
    EXPECT_NE(p.error().message().find("install the Debian package passt"), std::string::npos)
        << p.error().message();
}

TEST(Passt, ConnectStreamReachesAListeningSocketAndNamesAMissingOne) {
    char dir[] = "/tmp/minivmm-stream-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    const std::string path = std::string(dir) + "/s";
    auto missing = connect_stream(path);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message().find(path), std::string::npos);

    UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener.get(), 1), 0);
    auto fd = connect_stream(path);
    ASSERT_TRUE(fd) << fd.error().message();
    EXPECT_FALSE(connect_stream(std::string(200, 'x')));
    ::unlink(path.c_str());
    ::rmdir(dir);
}

} // namespace
} // namespace minivmm::net
