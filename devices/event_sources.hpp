// EventSources: how a device asks the I/O thread's event loop to wake it: readiness of its
// host descriptors (a tap) and one timer (a rate limit's refill). Every wake-up arrives as one
// VirtioDevice::process_backend() call, under the device's core lock. The machine implements
// it on its EventLoop (LoopEventSources); tests record the calls.
#pragma once

#include <chrono>
#include <cstdint>

namespace minivmm {

class EventSources {
public:
    virtual ~EventSources() = default;

    // Adds `fd` or changes what it is watched for. `epoll_events`: EPOLLIN and/or EPOLLOUT;
    // 0 pauses it (it leaves the epoll set: EPOLLERR/EPOLLHUP are reported whatever the set).
    virtual void watch_fd(int fd, uint32_t epoll_events) noexcept = 0;
    // Stops watching `fd` for good (before the device closes it).
    virtual void remove_fd(int fd) noexcept = 0;

    // The device's one timer: one wake-up `delay` from now (0: at the loop's next pass).
    // Arming an armed timer moves it; disarm_timer() cancels it. A device must tolerate a
    // wake-up that finds nothing to do (the timer fired just before it was disarmed).
    virtual void arm_timer(std::chrono::nanoseconds delay) noexcept = 0;
    virtual void disarm_timer() noexcept = 0;
};

} // namespace minivmm
