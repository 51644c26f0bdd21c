// LoopFdWatch: a device's FdWatch on the machine's EventLoop (added at the first set_events;
// an empty event set pauses it, see EventLoop::set_events).
#pragma once

#include <functional>

#include "base/event_loop.hpp"
#include "net/fd_watch.hpp"

namespace minivmm {

class LoopFdWatch : public net::FdWatch {
public:
    // `on_ready` runs on the loop thread when `fd` is ready (the transport's backend_ready()).
    LoopFdWatch(EventLoop& loop, int fd, std::function<void()> on_ready)
        : loop_(loop), fd_(fd), on_ready_(std::move(on_ready)) {}
    ~LoopFdWatch() override;

    // Called with the transport's lock held (so never concurrently with itself).
    void set_events(uint32_t epoll_events) noexcept override;

    LoopFdWatch(const LoopFdWatch&) = delete;
    LoopFdWatch& operator=(const LoopFdWatch&) = delete;

private:
    EventLoop& loop_;
    int fd_;
    std::function<void()> on_ready_;
    bool added_ = false;
};

} // namespace minivmm
