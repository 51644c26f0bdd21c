// SocketHost: --console socket=PATH. minivmm listens on a unix stream socket at PATH and serves
// one client at a time: the guest's output goes to it, its bytes go to the guest. A client
// that leaves (or shuts down its sending side) is not an error: the next one is accepted.
// Without a client the guest's output is dropped and counted, like a serial line with nothing
// plugged in; a client that does not read holds the guest's output back (nothing is queued
// on the host beyond the socket's own buffer).
#pragma once

#include <memory>
#include <string>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "console/console_host.hpp"
#include "console/watched_fd.hpp"

namespace minivmm::console {

class SocketHost final : public ConsoleHost {
public:
    // Binds and listens at `path`; a socket file already there (a stale one from an earlier
    // run: minivmm does not remove it at exit) is replaced, any other file is an error.
    // Errors name the path (ErrorCode::Input).
    static Result<std::unique_ptr<SocketHost>> listen(const std::string& path);

    Sent write(std::span<const uint8_t> bytes) noexcept override;
    size_t read(std::span<uint8_t> out) noexcept override;
    // Accepts a waiting client when there is none.
    void poll() noexcept override;
    void update(EventSources& events, bool want_input, bool want_output) noexcept override;
    void detach(EventSources& events) noexcept override;
    std::string name() const override { return "socket=" + path_; }
    uint64_t connections() const override { return connections_; }
    bool connected() const { return client_.valid(); }

private:
    SocketHost(UniqueFd listener, std::string path)
        : listener_(std::move(listener)), path_(std::move(path)) {}
    void drop_client() noexcept;   // closed at the next update(), after leaving the loop

    UniqueFd listener_;
    UniqueFd client_;
    UniqueFd gone_;   // a client that left, still in the event loop until update()
    std::string path_;
    WatchedFd listener_watch_;
    WatchedFd client_watch_;   // client_'s, or gone_'s until update() removes it
    uint64_t connections_ = 0;
};

} // namespace minivmm::console
