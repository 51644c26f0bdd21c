#include "base/event_fd.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

namespace minivmm {

Result<EventFd> EventFd::create() {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return sys_error(ErrorCode::Host, "eventfd");
    return EventFd(UniqueFd(fd));
}

void EventFd::signal() const {
    uint64_t one = 1;
    // Cannot fail short of counter overflow (2^64-2 signals), which a wake-up tolerates.
    [[maybe_unused]] ssize_t n = ::write(fd_.get(), &one, sizeof one);
}

uint64_t EventFd::consume() const {
    uint64_t value = 0;
    if (::read(fd_.get(), &value, sizeof value) != sizeof value) return 0;
    return value;
}

} // namespace minivmm
