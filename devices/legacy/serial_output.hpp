// SerialOutput: the host end the guest's serial output is written to (stdout, a file, nowhere).
// It never blocks the thread that writes: what a slow, stopped or vanished reader cannot take
// now is reported back (SerialOutputBuffer keeps it, retries or drops and counts it;
// SIGPIPE is ignored, so a closed reader is an error value, not a signal).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace minivmm {

class SerialOutput {
public:
    // Output to the host's `fd` (stdout for --serial stdio). Ttys, pipes and FIFOs get their own
    // non-blocking open file description (through /proc/self/fd), so the shell's terminal keeps
    // its blocking mode; regular files are written as they are (O_APPEND and offsets shared);
    // sockets are sent to with MSG_DONTWAIT; anything else is written a byte at a time, each
    // only when poll() says there is room.
    static Result<std::unique_ptr<SerialOutput>> for_fd(int fd);
    // --serial file:PATH: created (0644) or truncated. Errors name the file (ErrorCode::Input).
    static Result<std::unique_ptr<SerialOutput>> open_file(const std::string& path);
    // --serial none: every byte is discarded.
    static std::unique_ptr<SerialOutput> discard();

    // What one write() achieved: `written` bytes from the front, then why it stopped short.
    struct Progress {
        enum class Stop {
            None,     // everything was written
            Full,     // the reader has no room now (EAGAIN): try again when fd() is writable
            Broken,   // it never will (EPIPE: the reader is gone; EIO, ENOSPC ...)
        };
        size_t written = 0;
        Stop stop = Stop::None;
    };
    // Writes as much of `bytes` as the host end takes without waiting. One caller at a time.
    Progress write(std::span<const uint8_t> bytes) noexcept;

    // The descriptor to watch for writability; -1 for discard().
    int fd() const { return fd_.get(); }
    bool discards() const { return mode_ == Mode::Discard; }

private:
    enum class Mode { Plain, Socket, PollFirst, Discard };
    SerialOutput(UniqueFd fd, Mode mode) : fd_(std::move(fd)), mode_(mode) {}

    UniqueFd fd_;
    Mode mode_;
};

// Opens a new file description of `fd` (a tty, pipe or FIFO) with `flags` (O_NONBLOCK ...)
// through /proc/self/fd, leaving `fd`'s own flags alone. Fails for sockets and where /proc is
// missing.
Result<UniqueFd> reopen_fd(int fd, int flags);

} // namespace minivmm
