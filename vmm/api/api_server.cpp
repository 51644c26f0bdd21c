#include "api/api_server.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "base/log.hpp"

namespace minivmm::api {

namespace {

using Clock = std::chrono::steady_clock;

Result<sockaddr_un> socket_address(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        return Error(ErrorCode::Usage, fmt::format("--api-socket {}: a socket path is 1 to {} bytes",
                                                   path, sizeof addr.sun_path - 1));
    std::memcpy(addr.sun_path, path.data(), path.size());
    return addr;
}

// Whether something accepts connections on the unix socket at `addr`.
bool someone_listens(const sockaddr_un& addr) {
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe.get() < 0) return false;
    return ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

// Writes all of `data` to the non-blocking `fd`, waiting for room up to `timeout`.
bool write_all(int fd, std::string_view data, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n > 0) {
            data.remove_prefix(static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN) return false;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    }
    return true;
}

struct Connection {
    UniqueFd fd;
    std::unique_ptr<HttpRequestReader> reader = std::make_unique<HttpRequestReader>();
    Clock::time_point last_active = Clock::now();
};

// Answers every complete request `c` has buffered; false once the connection is to be closed.
bool answer(Connection& c, HttpRequestReader::Status status,
            const std::function<ApiResponse(const HttpRequest&)>& handle) {
    while (status == HttpRequestReader::Status::Complete) {
        const HttpRequest& request = c.reader->request();
        ApiResponse response = handle(request);
        if (!write_all(c.fd.get(), format_response(response.status, response.body, request.keep_alive),
                       ApiServer::WRITE_TIMEOUT) ||
            !request.keep_alive)
            return false;
        status = c.reader->next();
    }
    if (status == HttpRequestReader::Status::Error) {
        // The request could not be read: say why, then close (the stream is out of step).
        ApiResponse response = fault(c.reader->error_status(), c.reader->error_message());
        (void)write_all(c.fd.get(), format_response(response.status, response.body, false),
                        ApiServer::WRITE_TIMEOUT);
        return false;
    }
    return true;
}

} // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::bind(const std::string& path) {
    auto addr = socket_address(path);
    if (!addr) return addr.error();
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return Error(ErrorCode::Input,
                         fmt::format("--api-socket {}: the path exists and is not a socket", path));
        if (someone_listens(*addr))
            return Error(ErrorCode::Input,
                         fmt::format("--api-socket {}: another process listens on it", path));
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            return sys_error(ErrorCode::Input,
                             fmt::format("--api-socket {}: cannot remove the stale socket", path));
        log(LogLevel::Info, "api: replaced the stale socket {}", path);
    }
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0) return sys_error(ErrorCode::Host, "api: socket");
    // Mode 0600 from the start: the umask applies to the file bind() creates (the main thread,
    // before any other thread exists, so no other file creation sees this umask).
    const mode_t old_mask = ::umask(0177);
    const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr);
    ::umask(old_mask);
    if (bound != 0) return sys_error(ErrorCode::Input, fmt::format("--api-socket {}: bind", path));
    if (::listen(fd.get(), 16) != 0) return sys_error(ErrorCode::Host, "api: listen");
    if (::lstat(path.c_str(), &st) != 0)
        return sys_error(ErrorCode::Host, fmt::format("--api-socket {}: stat", path));
    auto stop = EventFd::create();
    if (!stop) return stop.error();
    return std::unique_ptr<ApiServer>(
        new ApiServer(std::move(fd), std::move(*stop), path, st.st_dev, st.st_ino));
}

ApiServer::~ApiServer() { remove_socket_file(); }

void ApiServer::remove_socket_file() {
    if (removed_) return;
    removed_ = true;
    struct stat st{};
    // Only the file this server made: a later minivmm may have replaced a stale one by now.
    if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_)
        ::unlink(path_.c_str());
}

void ApiServer::serve(const std::function<ApiResponse(const HttpRequest&)>& handle) {
    std::vector<Connection> clients;
    std::vector<pollfd> fds;
    for (;;) {
        fds.assign({{stop_.fd(), POLLIN, 0},
                    {listen_.get(), static_cast<short>(clients.size() < MAX_CONNECTIONS ? POLLIN : 0), 0}});
        auto timeout = IDLE_TIMEOUT;
        const auto now = Clock::now();
        for (const Connection& c : clients) {
            fds.push_back({c.fd.get(), POLLIN, 0});
            timeout = std::min(timeout, std::chrono::duration_cast<std::chrono::seconds>(
                                            c.last_active + IDLE_TIMEOUT - now) +
                                            std::chrono::seconds(1));
        }
        const int n = ::poll(fds.data(), fds.size(),
                             static_cast<int>(std::max<int64_t>(0, timeout.count()) * 1000));
        if (n < 0 && errno != EINTR) break;
        if (fds[0].revents) break;
        std::vector<bool> keep(clients.size(), true);
        for (size_t i = 0; i < clients.size(); ++i) {
            Connection& c = clients[i];
            const short ev = fds[i + 2].revents;
            if (ev == 0) {
                keep[i] = Clock::now() - c.last_active < IDLE_TIMEOUT;
                continue;
            }
            char buf[4096];
            const ssize_t got = ::read(c.fd.get(), buf, sizeof buf);
            if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (got <= 0) {
                keep[i] = false;
                continue;
            }
            c.last_active = Clock::now();
            keep[i] = answer(c, c.reader->feed({buf, static_cast<size_t>(got)}), handle);
        }
        std::vector<Connection> left;
        for (size_t i = 0; i < clients.size(); ++i)
            if (keep[i]) left.push_back(std::move(clients[i]));
        clients = std::move(left);
        if (fds[1].revents & POLLIN) {
            const int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0) clients.push_back(Connection{UniqueFd(fd)});
        }
    }
    clients.clear();
    remove_socket_file();
}

} // namespace minivmm::api
