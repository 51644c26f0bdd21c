// SerialInput: feeds host input (stdin for --serial stdio) into the UART's receive FIFO on the
// event-loop thread, with back-pressure: it reads no more than the FIFO has room for, and stops
// watching the input while the FIFO is full, until the guest has read it down (the UART's space
// callback). Nothing is buffered outside the FIFO. On a terminal it also runs the console
// escape (Ctrl-a x quits, Ctrl-a p pauses or resumes).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "base/event_fd.hpp"
#include "base/event_loop.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "legacy/console_escape.hpp"
#include "legacy/serial.hpp"

namespace minivmm {

class SerialInput {
public:
    struct Options {
        bool escape = false;           // interpret Ctrl-a sequences (stdin is a terminal)
        std::function<void()> on_quit; // Ctrl-a x; runs on the loop thread
        std::function<void()> on_pause; // Ctrl-a p (pause or resume); the loop thread, must not wait
        int help_fd = 2;               // where Ctrl-a h writes the help
    };
    static constexpr size_t READ_CHUNK = 256;   // at most this many bytes per read

    // Watches `fd` (not owned: ttys, pipes and FIFOs are reopened non-blocking, others dup'ed;
    // regular files and /dev/null, which epoll refuses, are read until EOF as the FIFO drains).
    // `serial` must outlive the SerialInput; the loop too. The loop may already be running.
    static Result<std::unique_ptr<SerialInput>> create(EventLoop& loop, int fd, Serial16550& serial,
                                                       Options options);
    ~SerialInput();

    uint64_t bytes_read() const { return bytes_read_.load(std::memory_order_relaxed); }
    uint64_t bytes_lost() const { return bytes_lost_.load(std::memory_order_relaxed); }
    bool paused() const { return paused_.load(std::memory_order_relaxed); }
    bool finished() const { return finished_.load(std::memory_order_relaxed); }

    SerialInput(const SerialInput&) = delete;
    SerialInput& operator=(const SerialInput&) = delete;

private:
    SerialInput(EventLoop& loop, UniqueFd fd, EventFd space, Serial16550& serial, Options options)
        : loop_(loop), fd_(std::move(fd)), space_(std::move(space)), serial_(serial),
          options_(std::move(options)) {}
    void pump();           // one read into the FIFO (loop thread)
    void on_space();       // the guest made room (loop thread)
    void watch();
    void unwatch();
    void finish();

    EventLoop& loop_;
    UniqueFd fd_;
    EventFd space_;        // signalled by the UART's space callback, or by pump() itself
    Serial16550& serial_;
    Options options_;
    ConsoleEscape escape_;
    bool pollable_ = true;   // epoll accepts fd_ (not a regular file or /dev/null)
    std::atomic<bool> paused_{false};
    std::atomic<bool> finished_{false};
    std::atomic<uint64_t> bytes_read_{0};
    std::atomic<uint64_t> bytes_lost_{0};   // found no room (the guest's loopback raced us)
};

} // namespace minivmm
