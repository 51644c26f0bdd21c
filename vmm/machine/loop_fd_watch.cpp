// FdWatch on the EventLoop (see loop_fd_watch.hpp).
#include "machine/loop_fd_watch.hpp"

#include "base/log.hpp"

namespace minivmm {

LoopFdWatch::~LoopFdWatch() {
    if (added_) (void)loop_.remove(fd_);
}

void LoopFdWatch::set_events(uint32_t events) noexcept {
    // EventLoop takes the descriptor out of epoll for an empty set (a deleted tap's EPOLLERR
    // cannot spin the loop) and keeps the handler for the next non-empty one.
    Result<void> r;
    if (added_) {
        r = loop_.set_events(fd_, events);
    } else {
        r = loop_.add(fd_, events, [this](uint32_t) { on_ready_(); });
        added_ = r.has_value();
    }
    if (!r) log(LogLevel::Error, "event loop, fd {}: {}", fd_, r.error().message());
}

} // namespace minivmm
