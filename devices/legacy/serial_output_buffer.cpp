#include "legacy/serial_output_buffer.hpp"

#include <algorithm>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace minivmm {

Result<std::unique_ptr<SerialOutputBuffer>> SerialOutputBuffer::create(
    std::unique_ptr<SerialOutput> output, Tuning tuning) {
    if (tuning.capacity == 0 || tuning.flush_delay.count() <= 0)
        return Error(ErrorCode::Invalid,
                     "serial output buffer: capacity and flush delay must be > 0");
    int timer = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (timer < 0) return sys_error(ErrorCode::Host, "timerfd_create for the serial output");
    return std::unique_ptr<SerialOutputBuffer>(
        new SerialOutputBuffer(std::move(output), UniqueFd(timer), tuning));
}

SerialOutputBuffer::SerialOutputBuffer(std::unique_ptr<SerialOutput> output, UniqueFd timer,
                                       Tuning tuning)
    : output_(std::move(output)), tuning_(tuning), timer_(std::move(timer)),
      ring_(new uint8_t[tuning.capacity]) {}

SerialOutputBuffer::~SerialOutputBuffer() {
    flush_at_exit();
    if (loop_ != nullptr) {
        (void)loop_->remove(timer_.get());
        (void)loop_->remove(output_->fd());
    }
}

Result<void> SerialOutputBuffer::attach(EventLoop& loop) {
    if (output_->discards()) return {};
    MINIVMM_TRY(loop.add(timer_.get(), EPOLLIN, [this](uint32_t) { on_timer(); }));
    // Watched only while a write found no room (settle()); a regular file, which epoll
    // refuses, never has none.
    MINIVMM_TRY(loop.add(output_->fd(), 0, [this](uint32_t) { on_writable(); }));
    std::lock_guard lock(mutex_);
    loop_ = &loop;
    settle(false);   // bytes put before: their flush
    return {};
}

void SerialOutputBuffer::put(uint8_t byte) noexcept {
    if (output_->discards()) return;
    std::unique_lock lock(mutex_);
    bool wrote = false;
    if (count_ == tuning_.capacity && !blocked_) {
        // Full with a reader that had room at the last try: the guest writes faster than the
        // loop flushes (a string OUT), so this vCPU writes the ring out itself.
        lock.unlock();
        {
            std::lock_guard writing(write_mutex_);
            write_out();
        }
        lock.lock();
        wrote = true;
    }
    if (count_ == tuning_.capacity) {
        dropped_.fetch_add(1, std::memory_order_relaxed);   // the reader has no room
        settle(false);
        return;
    }
    ring_[(head_ + count_) % tuning_.capacity] = byte;
    ++count_;
    // The first byte since the last flush starts the timer; after a write of its own (which
    // may have found the reader without room) the vCPU settles the state as the loop would.
    if (wrote || (!armed_ && !blocked_)) settle(false);
}

void SerialOutputBuffer::flush() noexcept {
    {
        std::lock_guard writing(write_mutex_);
        write_out();
    }
    std::lock_guard lock(mutex_);
    settle(false);
}

void SerialOutputBuffer::flush_at_exit() noexcept {
    std::lock_guard writing(write_mutex_);
    const auto deadline = std::chrono::steady_clock::now() + tuning_.exit_wait;
    for (;;) {
        write_out();
        std::unique_lock lock(mutex_);
        if (count_ == 0) return;
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            dropped_.fetch_add(count_, std::memory_order_relaxed);
            head_ = (head_ + count_) % tuning_.capacity;
            count_ = 0;
            return;
        }
        lock.unlock();
        pollfd p{output_->fd(), POLLOUT, 0};   // the reader has no room: wait for some
        ::poll(&p, 1, static_cast<int>(left.count()));
    }
}

size_t SerialOutputBuffer::buffered() const {
    std::lock_guard lock(mutex_);
    return count_;
}

size_t SerialOutputBuffer::write_out() {
    size_t budget;
    {
        std::lock_guard lock(mutex_);
        budget = count_;   // bytes put while this writes wait for the next call
    }
    size_t total = 0;
    while (total < budget) {
        size_t start, len;
        {
            std::lock_guard lock(mutex_);
            start = head_;
            len = std::min({count_, tuning_.capacity - head_, budget - total});
        }
        // [start, start + len) stays put until head_ moves past it: put() only writes after
        // head_ + count_, and only the holder of write_mutex_ moves head_.
        SerialOutput::Progress p = output_->write({ring_.get() + start, len});
        std::lock_guard lock(mutex_);
        head_ = (head_ + p.written) % tuning_.capacity;
        count_ -= p.written;
        total += p.written;
        written_.fetch_add(p.written, std::memory_order_relaxed);
        if (p.stop == SerialOutput::Progress::Stop::Full) {
            blocked_ = true;   // kept for when the reader has room (settle() watches for it)
            return total;
        }
        blocked_ = false;
        if (p.stop == SerialOutput::Progress::Stop::Broken) {
            dropped_.fetch_add(count_, std::memory_order_relaxed);   // nobody will read them
            head_ = (head_ + count_) % tuning_.capacity;
            count_ = 0;
            return total;
        }
    }
    return total;
}

void SerialOutputBuffer::settle(bool idle_tick) {
    if (loop_ == nullptr) return;
    if (blocked_) {
        // Wait for room instead of ticking; if epoll cannot watch the descriptor, keep ticking.
        if (!watching_ && loop_->set_events(output_->fd(), EPOLLOUT)) watching_ = true;
        set_timer(!watching_);
        return;
    }
    if (watching_) {
        (void)loop_->set_events(output_->fd(), 0);
        watching_ = false;
    }
    // The timer stays on while output keeps coming (the vCPU then makes no call at all), and
    // stops at the first tick that finds nothing to write.
    if (count_ > 0)
        set_timer(true);
    else if (idle_tick)
        set_timer(false);
}

void SerialOutputBuffer::set_timer(bool on) {
    if (on == armed_) return;
    itimerspec its{};
    if (on) {
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(tuning_.flush_delay);
        its.it_value.tv_sec = static_cast<time_t>(ns.count() / 1'000'000'000);
        its.it_value.tv_nsec = static_cast<long>(ns.count() % 1'000'000'000);
        its.it_interval = its.it_value;
    }
    if (::timerfd_settime(timer_.get(), 0, &its, nullptr) == 0) armed_ = on;
}

// The loop thread, every flush_delay while armed_.
void SerialOutputBuffer::on_timer() {
    uint64_t ticks;
    if (::read(timer_.get(), &ticks, sizeof ticks) != sizeof ticks) return;   // stopped since
    size_t wrote;
    {
        std::lock_guard writing(write_mutex_);
        wrote = write_out();
    }
    std::lock_guard lock(mutex_);
    settle(wrote == 0);
}

// The loop thread: the reader that had no room has some (or is gone: EPOLLERR, and the write
// says EPIPE).
void SerialOutputBuffer::on_writable() {
    {
        std::lock_guard writing(write_mutex_);
        {
            std::lock_guard lock(mutex_);
            blocked_ = false;   // write_out() sets it again if there is still no room
        }
        write_out();
    }
    std::lock_guard lock(mutex_);
    settle(false);
}

} // namespace minivmm
