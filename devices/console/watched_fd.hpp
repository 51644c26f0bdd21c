// WatchedFd: what one host descriptor of a console end is watched for in the device's
// EventSources, so that it is asked only on a change and removed only if it was added.
#pragma once

#include <cstdint>
#include <sys/epoll.h>

#include "event_sources.hpp"

namespace minivmm::console {

class WatchedFd {
public:
    static constexpr uint32_t IN = EPOLLIN;
    static constexpr uint32_t OUT = EPOLLOUT;
    static constexpr uint32_t NONE = 0;

    // Watches `fd` for `events` (0 pauses it). `fd` is the one watched so far, or the first.
    void set(EventSources& sources, int fd, uint32_t events) noexcept {
        if (fd < 0 || (added_ && events == events_)) return;
        sources.watch_fd(fd, events);
        fd_ = fd;
        added_ = true;
        events_ = events;
    }
    // Before the descriptor is closed (or the device is reset).
    void remove(EventSources& sources) noexcept {
        if (added_) sources.remove_fd(fd_);
        added_ = false;
        events_ = 0;
    }

private:
    int fd_ = -1;
    bool added_ = false;
    uint32_t events_ = 0;
};

} // namespace minivmm::console
