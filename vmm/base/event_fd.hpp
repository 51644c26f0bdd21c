// EventFd: a counter file descriptor used to wake threads (and, later, as KVM ioeventfd/irqfd).
#pragma once

#include <cstdint>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace minivmm {

class EventFd {
public:
    static Result<EventFd> create();

    int fd() const { return fd_.get(); }
    // Adds 1 to the counter; safe from any thread.
    void signal() const;
    // Returns the counter and resets it to 0; 0 if nothing was signalled (non-blocking).
    uint64_t consume() const;

private:
    explicit EventFd(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
};

} // namespace minivmm
