// EventSources on the EventLoop (see loop_event_sources.hpp).
#include "machine/loop_event_sources.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "base/log.hpp"

namespace minivmm {

Result<std::unique_ptr<LoopEventSources>> LoopEventSources::create(
    EventLoop& loop, std::function<void()> on_ready) {
    int fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return sys_error(ErrorCode::Host, "timerfd_create");
    std::unique_ptr<LoopEventSources> sources(
        new LoopEventSources(loop, UniqueFd(fd), std::move(on_ready)));
    LoopEventSources* self = sources.get();
    // A disarmed timerfd never becomes readable: it can stay in the epoll set.
    MINIVMM_TRY(loop.add(fd, EPOLLIN, [self](uint32_t) { self->on_timer(); }));
    return sources;
}

LoopEventSources::~LoopEventSources() {
    for (int fd : fds_) (void)loop_.remove(fd);
    (void)loop_.remove(timer_.get());
}

void LoopEventSources::watch_fd(int fd, uint32_t events) noexcept {
    // EventLoop takes the descriptor out of epoll for an empty set (a deleted tap's EPOLLERR
    // cannot spin the loop) and keeps the handler for the next non-empty one.
    Result<void> r;
    if (fds_.count(fd) != 0) {
        r = loop_.set_events(fd, events);
    } else {
        r = loop_.add(fd, events, [this](uint32_t) { on_ready_(); });
        if (r) fds_.insert(fd);
    }
    if (!r) log(LogLevel::Error, "event loop, fd {}: {}", fd, r.error().message());
}

void LoopEventSources::remove_fd(int fd) noexcept {
    if (fds_.erase(fd) == 0) return;
    auto r = loop_.remove(fd);
    if (!r) log(LogLevel::Error, "event loop, fd {}: {}", fd, r.error().message());
}

void LoopEventSources::arm_timer(std::chrono::nanoseconds delay) noexcept {
    // A zero it_value would disarm: the shortest real delay is 1 ns.
    set_timer(std::max(delay, std::chrono::nanoseconds(1)));
}

void LoopEventSources::disarm_timer() noexcept { set_timer(std::chrono::nanoseconds(0)); }

void LoopEventSources::set_timer(std::chrono::nanoseconds delay) noexcept {
    itimerspec spec{};
    spec.it_value.tv_sec = static_cast<time_t>(delay.count() / 1'000'000'000);
    spec.it_value.tv_nsec = static_cast<long>(delay.count() % 1'000'000'000);
    if (::timerfd_settime(timer_.get(), 0, &spec, nullptr) < 0)
        log(LogLevel::Error, "timerfd_settime: {}", std::strerror(errno));
}

// The expiry count is read (and so cleared) first: a timer disarmed meanwhile reads EAGAIN and
// wakes nobody.
void LoopEventSources::on_timer() noexcept {
    uint64_t expirations = 0;
    if (::read(timer_.get(), &expirations, sizeof expirations) != sizeof expirations) return;
    on_ready_();
}

} // namespace minivmm
