// LoopEventSources: one device's EventSources on the machine's EventLoop. Its timer is a
// timerfd created with it, before the threads confine themselves (seccomp); arming it is a
// timerfd_settime, its expiry a read on the loop thread.
#pragma once

#include <functional>
#include <memory>
#include <set>

#include "base/event_loop.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "event_sources.hpp"

namespace minivmm {

class LoopEventSources final : public EventSources {
public:
    // `on_ready` runs on the loop thread whenever a watched descriptor is ready or the timer
    // expires (the device's core: backend_ready()). `loop` outlives the sources.
    static Result<std::unique_ptr<LoopEventSources>> create(EventLoop& loop,
                                                            std::function<void()> on_ready);
    ~LoopEventSources() override;

    // Called by the device with its core's lock held, so never concurrently with each other.
    void watch_fd(int fd, uint32_t epoll_events) noexcept override;
    void remove_fd(int fd) noexcept override;
    void arm_timer(std::chrono::nanoseconds delay) noexcept override;
    void disarm_timer() noexcept override;

    LoopEventSources(const LoopEventSources&) = delete;
    LoopEventSources& operator=(const LoopEventSources&) = delete;

private:
    LoopEventSources(EventLoop& loop, UniqueFd timer, std::function<void()> on_ready)
        : loop_(loop), timer_(std::move(timer)), on_ready_(std::move(on_ready)) {}
    void set_timer(std::chrono::nanoseconds delay) noexcept;
    void on_timer() noexcept;

    EventLoop& loop_;
    UniqueFd timer_;   // timerfd, CLOCK_MONOTONIC, non-blocking; in the loop from create()
    std::function<void()> on_ready_;
    std::set<int> fds_;   // descriptors added to the loop (paused ones included)
};

} // namespace minivmm
