// ApiServer on a real unix socket in a temporary directory, with a handler that echoes: the
// socket's mode, the stale-socket rule, answers on one connection, an oversized request, and
// the socket file removed at the end.
#include "api/api_server.hpp"

#include <cstring>
#include <filesystem>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "temp_dir.hpp"

namespace minivmm::api {
namespace {

namespace fs = std::filesystem;
using minivmm::test::TempDir;

UniqueFd connect_to(const fs::path& path) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return UniqueFd();
    return fd;
}

// Sends `text` and reads until the server closes the connection.
std::string exchange(const fs::path& path, const std::string& text) {
    UniqueFd fd = connect_to(path);
    if (fd.get() < 0) return "no connection";
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) return "short write";
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    return out;
}

struct Running {
    std::unique_ptr<ApiServer> server;
    std::thread thread;
    explicit Running(std::unique_ptr<ApiServer> s) : server(std::move(s)) {
        thread = std::thread([this] {
            server->serve([](const HttpRequest& r) {
                return ApiResponse{200, "{\"path\":\"" + r.path + "\",\"body\":" +
                                            std::to_string(r.body.size()) + "}"};
            });
        });
    }
    ~Running() {
        server->stop();
        thread.join();
    }
};

TEST(ApiServer, ServesRequestsOnASocketOnlyItsOwnerCanUse) {
    TempDir dir("minivmm-api");
    const fs::path sock = dir.path / "api.sock";
    auto server = ApiServer::bind(sock);
    ASSERT_TRUE(server) << server.error().message();
    struct stat st{};
    ASSERT_EQ(::lstat(sock.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    {
        Running running(std::move(*server));
        // Two requests on one connection (keep-alive, then close): two answers.
        std::string out = exchange(sock, "GET /a HTTP/1.1\r\n\r\nPUT /b HTTP/1.1\r\nContent-Length: 3\r\n"
                                         "Connection: close\r\n\r\nabc");
        EXPECT_NE(out.find("{\"path\":\"/a\",\"body\":0}"), std::string::npos) << out;
        EXPECT_NE(out.find("Connection: close\r\nContent-Type: application/json\r\nContent-Length: 22"
                           "\r\n\r\n{\"path\":\"/b\",\"body\":3}"),
                  std::string::npos) << out;
        // Too large a body: 413 with a fault_message, and the connection closed.
        out = exchange(sock, "PUT /b HTTP/1.1\r\nContent-Length: 100000\r\n\r\n");
        EXPECT_EQ(out.rfind("HTTP/1.1 413 Payload Too Large\r\n", 0), 0u) << out;
        EXPECT_NE(out.find("{\"fault_message\":\"Request body over 51200 bytes\"}"), std::string::npos) << out;
        out = exchange(sock, "NOT HTTP\r\n\r\n");
        EXPECT_EQ(out.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << out;
        // A second server on the same live socket is refused.
        auto second = ApiServer::bind(sock);
        ASSERT_FALSE(second);
        EXPECT_NE(second.error().message().find("another process listens on it"), std::string::npos);
    }
    EXPECT_FALSE(fs::exists(sock)) << "the socket file outlived its server";
}

TEST(ApiServer, AStaleSocketIsReplacedAndOtherFilesAreNot) {
    TempDir dir("minivmm-api");
    const fs::path sock = dir.path / "api.sock";
    {   // a socket file nobody listens on, as a killed minivmm leaves it
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, sock.c_str(), sizeof addr.sun_path - 1);
        ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    }
    auto server = ApiServer::bind(sock);
    ASSERT_TRUE(server) << server.error().message();
    server->reset();
    EXPECT_FALSE(fs::exists(sock));

    const fs::path file = dir.path / "file";
    { std::FILE* f = std::fopen(file.c_str(), "w"); std::fclose(f); }
    auto refused = ApiServer::bind(file);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message().find("is not a socket"), std::string::npos);
    EXPECT_TRUE(fs::exists(file));
    EXPECT_FALSE(ApiServer::bind(dir.path / std::string(200, 'x')));   // longer than sun_path
}

TEST(ApiServer, ConnectionsBeyondTheLimitWaitTheirTurn) {
    TempDir dir("minivmm-api");
    const fs::path sock = dir.path / "api.sock";
    auto server = ApiServer::bind(sock);
    ASSERT_TRUE(server);
    Running running(std::move(*server));
    std::vector<UniqueFd> idle;
    for (size_t i = 0; i < ApiServer::MAX_CONNECTIONS; ++i) idle.push_back(connect_to(sock));
    // One more: it connects (the backlog) but is served only once a place is free.
    UniqueFd waiting = connect_to(sock);
    ASSERT_GE(waiting.get(), 0);
    const std::string get = "GET /w HTTP/1.1\r\nConnection: close\r\n\r\n";
    ASSERT_EQ(::write(waiting.get(), get.data(), get.size()), static_cast<ssize_t>(get.size()));
    pollfd p{waiting.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 300), 0) << "served beyond the connection limit";
    idle.pop_back();   // one idle client leaves
    EXPECT_EQ(::poll(&p, 1, 5000), 1);
    char buf[512];
    ssize_t n = ::read(waiting.get(), buf, sizeof buf);
    ASSERT_GT(n, 0);
    EXPECT_NE(std::string(buf, static_cast<size_t>(n)).find("/w"), std::string::npos);
}

} // namespace
} // namespace minivmm::api
