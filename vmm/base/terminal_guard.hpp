// TerminalGuard: puts a terminal in raw mode for the serial console and restores it on every
// way out: destruction (normal end, error paths) and the fatal signals SIGSEGV, SIGBUS, SIGILL,
// SIGFPE and SIGABRT, whose handler restores the saved mode, puts back the handler that was
// there before and lets the signal take its course (re-raised if it was sent, re-executed if it
// was a fault). SIGINT and SIGTERM are not handled here: the machine takes them through a
// signalfd and ends normally, destroying the guard.
#pragma once

#include <memory>

#include "base/result.hpp"

namespace minivmm {

class TerminalGuard {
public:
    // If `fd` is a terminal: saves its mode and makes input raw (no echo, no line editing, no
    // signals from Ctrl-C/Ctrl-Z: those keys go to the guest), 8-bit, one byte at a time; output
    // processing stays on so "\n" still returns the carriage. One guard at a time per process.
    // If `fd` is not a terminal, the guard does nothing.
    static Result<std::unique_ptr<TerminalGuard>> make_raw(int fd);
    ~TerminalGuard();

    bool active() const { return active_; }
    // Async-signal-safe: restores the saved mode now, if a guard is active (for other fatal
    // paths, e.g. a handler of another signal that ends the process).
    static void restore_now() noexcept;

    TerminalGuard(const TerminalGuard&) = delete;
    TerminalGuard& operator=(const TerminalGuard&) = delete;

private:
    explicit TerminalGuard(bool active) : active_(active) {}
    bool active_;
};

} // namespace minivmm
