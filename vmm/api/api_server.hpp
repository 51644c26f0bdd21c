// ApiServer: the API socket (--api-socket PATH), an HTTP/1.1 server on a unix socket served by
// one thread (the API thread), one request at a time. Bounded: at most MAX_CONNECTIONS clients
// at once (more wait in the listen backlog), each request's size (HttpLimits), a connection idle
// for IDLE_TIMEOUT is closed, and a client that does not take its answer within WRITE_TIMEOUT
// is dropped. The socket file is created mode 0600 (only its owner, and root, can connect) and
// removed when the server ends, if it is still the one this server made.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <sys/types.h>

#include "api/http_request.hpp"
#include "api/api_router.hpp"
#include "base/event_fd.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace minivmm::api {

class ApiServer {
public:
    static constexpr size_t MAX_CONNECTIONS = 8;
    static constexpr std::chrono::seconds IDLE_TIMEOUT{60};
    static constexpr std::chrono::seconds WRITE_TIMEOUT{2};

    // Creates and listens on `path`. A socket file already there is replaced only if nothing
    // listens on it (a minivmm that ended without removing it); a live socket or any other
    // file there is an ErrorCode::Input error naming the path.
    static Result<std::unique_ptr<ApiServer>> bind(const std::string& path);
    ~ApiServer();

    // The API thread: answers each request with `handle` until stop(), then removes the
    // socket file.
    void serve(const std::function<ApiResponse(const HttpRequest&)>& handle);
    // From any thread: serve() returns after the request in progress.
    void stop() { stop_.signal(); }
    const std::string& path() const { return path_; }

    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

private:
    ApiServer(UniqueFd listen, EventFd stop, std::string path, dev_t dev, ino_t ino)
        : listen_(std::move(listen)), stop_(std::move(stop)), path_(std::move(path)), dev_(dev),
          ino_(ino) {}
    void remove_socket_file();

    UniqueFd listen_;
    EventFd stop_;
    std::string path_;
    dev_t dev_;   // the socket file this server made
    ino_t ino_;
    bool removed_ = false;
};

} // namespace minivmm::api
