// FdWatch: how a device tells the event loop which readiness of its backend descriptor it wants
// to be woken for (back-pressure: no receive buffers, no EPOLLIN). The machine implements it on
// the EventLoop; tests record the calls.
#pragma once

#include <cstdint>

namespace minivmm::net {

class FdWatch {
public:
    virtual ~FdWatch() = default;
    // `epoll_events`: EPOLLIN and/or EPOLLOUT; 0 means "do not wake me at all" (the descriptor
    // should leave the epoll set, since EPOLLERR/EPOLLHUP are reported even with no events).
    // Called on the device's thread; the device then gets process_backend() calls.
    virtual void set_events(uint32_t epoll_events) noexcept = 0;
};

} // namespace minivmm::net
