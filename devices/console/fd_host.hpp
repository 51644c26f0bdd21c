// FdHost: a console host end on plain descriptors: --console stdio (output to stdout, input
// from stdin), stdout and stderr (output only) and file=PATH (output appended to PATH, no input).
#pragma once

#include <memory>

#include "base/unique_fd.hpp"
#include "console/console_host.hpp"
#include "console/watched_fd.hpp"
#include "legacy/serial_output.hpp"

namespace minivmm::console {

class FdHost final : public ConsoleHost {
public:
    // stdout through its own non-blocking open (SerialOutput::for_fd), stdin likewise where it
    // is a tty, pipe or FIFO (a regular file is read as it is: it is always readable).
    static Result<std::unique_ptr<FdHost>> stdio();
    // Output only, to minivmm's stdout or stderr (FD), through its own non-blocking open.
    static Result<std::unique_ptr<FdHost>> output_only(int fd, std::string name);
    // PATH created (0644) or appended to. Errors name it (ErrorCode::Input).
    static Result<std::unique_ptr<FdHost>> append_file(const std::string& path);
    // For tests: output to `out`, input from `in` (may be invalid: no input).
    FdHost(std::unique_ptr<SerialOutput> out, UniqueFd in, std::string name);

    Sent write(std::span<const uint8_t> bytes) noexcept override;
    size_t read(std::span<uint8_t> out) noexcept override;
    void update(EventSources& events, bool want_input, bool want_output) noexcept override;
    void detach(EventSources& events) noexcept override;
    std::string name() const override { return name_; }

private:
    std::unique_ptr<SerialOutput> out_;
    UniqueFd in_;
    std::string name_;
    bool out_broken_ = false;    // EPIPE, EIO, ENOSPC: everything after is dropped
    bool in_pollable_ = false;   // in_ may go into epoll (not a regular file)
    bool in_done_ = false;       // in_ reached its end
    WatchedFd in_watch_;
    WatchedFd out_watch_;
};

} // namespace minivmm::console
