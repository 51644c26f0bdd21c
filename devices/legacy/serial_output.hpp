// SerialOutput: where the guest's serial output goes on the host. It never blocks the vCPU that
// writes: when the reader is slow, stopped or gone, bytes are dropped and counted
// (test-catalogue PROC-03, PROC-04).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace minivmm {

class SerialOutput {
public:
    // Output to the host's `fd` (stdout for --serial stdio). Ttys, pipes and FIFOs get their own
    // non-blocking open file description (through /proc/self/fd), so the shell's terminal keeps
    // its blocking mode; regular files are written as they are (O_APPEND and offsets shared);
    // anything else is written only when poll() says there is room.
    static Result<std::unique_ptr<SerialOutput>> for_fd(int fd);
    // --serial file:PATH: created (0644) or truncated. Errors name the file (ErrorCode::Input).
    static Result<std::unique_ptr<SerialOutput>> open_file(const std::string& path);
    // --serial none: every byte is discarded (not counted as dropped).
    static std::unique_ptr<SerialOutput> discard();

    // From vCPU threads (serialised by the UART's lock). Never blocks.
    void write(uint8_t byte) noexcept;

    uint64_t written() const { return written_.load(std::memory_order_relaxed); }
    uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

private:
    enum class Mode { Plain, PollFirst, Discard };
    SerialOutput(UniqueFd fd, Mode mode) : fd_(std::move(fd)), mode_(mode) {}

    UniqueFd fd_;
    Mode mode_;
    std::atomic<uint64_t> written_{0};
    std::atomic<uint64_t> dropped_{0};
};

// Opens a new file description of `fd` (a tty, pipe or FIFO) with `flags` (O_NONBLOCK ...)
// through /proc/self/fd, leaving `fd`'s own flags alone. Fails for sockets and where /proc is
// missing.
Result<UniqueFd> reopen_fd(int fd, int flags);

} // namespace minivmm
