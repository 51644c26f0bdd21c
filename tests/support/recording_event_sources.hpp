// RecordingEventSources: an EventSources that records what a device asked for (unit tests and
// fuzz targets drive process_backend() themselves).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "event_sources.hpp"

namespace minivmm::test {

// Records what the device asked the event loop to watch (its one descriptor) and its timer.
class RecordingEventSources : public EventSources {
public:
    void watch_fd(int /*fd*/, uint32_t events) noexcept override {
        current = events;
        ++calls;
    }
    void remove_fd(int /*fd*/) noexcept override {
        current = 0;
        ++calls;
    }
    void arm_timer(std::chrono::nanoseconds delay) noexcept override { timer = delay; }
    void disarm_timer() noexcept override { timer.reset(); }
    uint32_t current = 0;
    unsigned calls = 0;
    std::optional<std::chrono::nanoseconds> timer;   // armed, with its delay
};

} // namespace minivmm::test
