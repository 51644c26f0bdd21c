#include "base/event_loop.hpp"

#include <cerrno>
#include <sys/epoll.h>

namespace minivmm {

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
    int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return sys_error(ErrorCode::Host, "epoll_create1");
    UniqueFd epoll(fd);
    auto wake = EventFd::create();
    if (!wake) return wake.error();
    std::unique_ptr<EventLoop> loop(new EventLoop(std::move(epoll), std::move(*wake)));
    EventLoop* self = loop.get();
    MINIVMM_TRY(loop->add(self->wake_.fd(), EPOLLIN, [self](uint32_t) {
        self->wake_.consume();
        self->stopping_ = true;
    }));
    return loop;
}

Result<void> EventLoop::add(int fd, uint32_t events, Handler handler) {
    std::lock_guard lock(mutex_);
    if (entries_.count(fd) != 0)
        return Error(ErrorCode::Invalid, fmt::format("fd {} is already in the event loop", fd));
    auto entry = std::make_unique<Entry>();
    entry->fd = fd;
    entry->handler = std::move(handler);
    MINIVMM_TRY(arm(*entry, events));
    entries_.emplace(fd, std::move(entry));
    return {};
}

// With mutex_ held: brings `entry` into the epoll set with `events`, or out of it for none.
Result<void> EventLoop::arm(Entry& entry, uint32_t events) {
    const bool armed = entry.armed.load(std::memory_order_relaxed);
    if (events == 0) {
        if (armed && ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, entry.fd, nullptr) < 0 &&
            errno != EBADF && errno != ENOENT)
            return sys_error(ErrorCode::Host, fmt::format("epoll_ctl DEL fd {}", entry.fd));
        entry.armed.store(false, std::memory_order_release);
        return {};
    }
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = &entry;
    if (::epoll_ctl(epoll_.get(), armed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, entry.fd, &ev) < 0)
        return sys_error(ErrorCode::Host,
                         fmt::format("epoll_ctl {} fd {}", armed ? "MOD" : "ADD", entry.fd));
    entry.armed.store(true, std::memory_order_release);
    return {};
}

Result<void> EventLoop::set_events(int fd, uint32_t events) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(fd);
    if (it == entries_.end()) return Error(ErrorCode::Invalid, fmt::format("fd {} not in the loop", fd));
    return arm(*it->second, events);
}

Result<void> EventLoop::remove(int fd) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(fd);
    if (it == entries_.end()) return Error(ErrorCode::Invalid, fmt::format("fd {} not in the loop", fd));
    // A closed fd has already left the epoll set; arm() ignores that error.
    MINIVMM_TRY(arm(*it->second, 0));
    // Events of this batch may still point at the entry: keep it until the batch is done.
    it->second->removed.store(true, std::memory_order_release);
    graveyard_.push_back(std::move(it->second));
    entries_.erase(it);
    return {};
}

int EventLoop::run_once(int timeout_ms) noexcept {
    constexpr int MAX_EVENTS = 32;
    epoll_event events[MAX_EVENTS];
    int n = ::epoll_wait(epoll_.get(), events, MAX_EVENTS, timeout_ms);
    if (n < 0) return 0;   // EINTR: the caller loops
    for (int i = 0; i < n; ++i) {
        auto* entry = static_cast<Entry*>(events[i].data.ptr);
        if (!entry->removed.load(std::memory_order_acquire) &&
            entry->armed.load(std::memory_order_acquire))
            entry->handler(events[i].events);
    }
    std::lock_guard lock(mutex_);
    graveyard_.clear();
    return n;
}

void EventLoop::run() noexcept {
    while (!stopping_) run_once(-1);
}

void EventLoop::stop() { wake_.signal(); }

} // namespace minivmm
