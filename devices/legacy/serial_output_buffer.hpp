// SerialOutputBuffer: the guest's serial output between the UART and the host end
// (SerialOutput). The vCPU that writes THR only appends to a bounded ring: no system call per
// byte. The event-loop thread writes the ring out at most FLUSH_DELAY after a byte arrived;
// the vCPU itself only when the ring is full; flush_at_exit() what is left at the end, before
// anything else is printed. Order is always kept. Bytes are dropped (and counted) only when
// the host end cannot take them: the ring full while the reader is stopped, a reader gone, or
// still unwritten when the exit wait ends.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

#include "base/event_loop.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "legacy/serial_output.hpp"

namespace minivmm {

class SerialOutputBuffer {
public:
    struct Tuning {
        // Bytes held for a reader that has no room now (a terminal scrolling, a pipe reader
        // busy for a moment) before new ones are dropped; the buffer's memory, allocated once.
        size_t capacity = 64 * 1024;
        // How long a byte may wait for the loop's flush: short enough that an echo on an
        // interactive console is not noticed, long enough that a boot's console (a byte per
        // exit) goes out in lines rather than bytes.
        std::chrono::microseconds flush_delay{2000};
        // How long flush_at_exit() waits for a reader that has no room.
        std::chrono::milliseconds exit_wait{1000};
    };

    static Result<std::unique_ptr<SerialOutputBuffer>> create(std::unique_ptr<SerialOutput> output,
                                                              Tuning tuning);
    static Result<std::unique_ptr<SerialOutputBuffer>> create(
        std::unique_ptr<SerialOutput> output) {
        return create(std::move(output), Tuning{});
    }
    // flush_at_exit(), then leaves the loop: destroy it with the loop stopped (or on its thread).
    ~SerialOutputBuffer();

    // From then on the loop thread flushes after flush_delay and when a full reader has room
    // again. Until then (tests) only a full ring, flush() and flush_at_exit() write.
    Result<void> attach(EventLoop& loop);

    // A byte the guest transmitted (a vCPU thread; the UART's lock serialises the callers).
    // Never waits: when the ring is full it writes the ring out itself, and drops the byte
    // only if the reader has no room.
    void put(uint8_t byte) noexcept;
    // Writes out what is buffered, as far as the reader takes it now (never waits). Any thread.
    void flush() noexcept;
    // The end of the run, after every vCPU and the loop stopped: writes everything out, waiting
    // up to exit_wait in all for a reader without room; what is still left is dropped and
    // counted. The guest's last bytes are out before minivmm prints its own last words.
    void flush_at_exit() noexcept;

    uint64_t written() const { return written_.load(std::memory_order_relaxed); }
    uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
    size_t buffered() const;
    size_t capacity() const { return tuning_.capacity; }

    SerialOutputBuffer(const SerialOutputBuffer&) = delete;
    SerialOutputBuffer& operator=(const SerialOutputBuffer&) = delete;

private:
    SerialOutputBuffer(std::unique_ptr<SerialOutput> output, UniqueFd timer, Tuning tuning);
    // With write_mutex_ held: writes what is buffered now; returns the bytes written.
    size_t write_out();
    // With mutex_ held: the timer and the writability watch as the state asks. `idle_tick`: a
    // timer tick found nothing to write, so the timer stops until the next byte.
    void settle(bool idle_tick);
    void set_timer(bool on);
    void on_timer();
    void on_writable();

    std::unique_ptr<SerialOutput> output_;
    Tuning tuning_;
    UniqueFd timer_;                  // timerfd on the loop: flush_delay, periodic while armed_
    EventLoop* loop_ = nullptr;
    std::unique_ptr<uint8_t[]> ring_; // tuning_.capacity bytes
    // Held by whoever writes to the host end, for the whole write, so that writes from
    // different threads never overtake each other. Taken before mutex_.
    std::mutex write_mutex_;
    // Guards the ring's indexes and the flags below; never held across a write to the host
    // end (the vCPU appends while the loop writes the bytes before them).
    mutable std::mutex mutex_;
    size_t head_ = 0;                 // the oldest byte
    size_t count_ = 0;
    bool armed_ = false;              // the timer runs
    bool blocked_ = false;            // the last write found the reader without room
    bool watching_ = false;           // the loop watches output_->fd() for writability
    std::atomic<uint64_t> written_{0};
    std::atomic<uint64_t> dropped_{0};
};

} // namespace minivmm
