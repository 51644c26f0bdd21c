// EventLoop: the device thread's epoll loop (docs/architecture.md, Threads). Devices register
// file descriptors (ioeventfds for queue notifications, the tap, stdin, timers) with a handler that
// runs on the loop thread when the descriptor is ready.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "base/event_fd.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace minivmm {

class EventLoop {
public:
    // Called with the epoll event bits (EPOLLIN, EPOLLOUT, EPOLLHUP, ...).
    using Handler = std::function<void(uint32_t events)>;

    static Result<std::unique_ptr<EventLoop>> create();

    // Watches `fd` for `events`; the loop does not own `fd`. Callable from any thread, handlers
    // included. After remove() returns, the handler is not called again unless it is running
    // now on the loop thread (a handler may remove its own fd).
    // An empty event set (at add() or set_events()) keeps the handler but takes `fd` out of the
    // epoll set: epoll reports EPOLLERR/EPOLLHUP whatever the set, so a paused descriptor that
    // hung up (a deleted tap, a closed stdin) would otherwise wake the loop forever. Events of
    // a batch already returned are dropped for a paused descriptor, as for a removed one.
    Result<void> add(int fd, uint32_t events, Handler handler);
    Result<void> set_events(int fd, uint32_t events);
    Result<void> remove(int fd);

    // The thread body: waits and dispatches until stop(). Handlers must not throw.
    void run() noexcept;
    // From any thread: run() returns after the handlers of its current batch.
    void stop();
    // Runs one wait of at most `timeout_ms` and its handlers (tests); returns events handled.
    int run_once(int timeout_ms) noexcept;

    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

private:
    struct Entry {
        int fd;
        Handler handler;
        std::atomic<bool> removed{false};
        std::atomic<bool> armed{false};   // in the epoll set (a non-empty event set)
    };
    Result<void> arm(Entry& entry, uint32_t events);
    EventLoop(UniqueFd epoll, EventFd wake) : epoll_(std::move(epoll)), wake_(std::move(wake)) {}

    UniqueFd epoll_;
    EventFd wake_;                                   // stop() signals it
    std::mutex mutex_;                               // guards entries_ and graveyard_
    std::map<int, std::unique_ptr<Entry>> entries_;  // by fd
    std::vector<std::unique_ptr<Entry>> graveyard_;  // removed, freed after the current batch
    bool stopping_ = false;                          // set on the loop thread by the wake entry
};

} // namespace minivmm
