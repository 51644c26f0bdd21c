// VmControl: where the first ending of a run is recorded (by a device, a vCPU thread or the
// main thread) and waited for. Only the first call to finish() counts.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>

#include "base/event_fd.hpp"
#include "machine/outcome.hpp"

namespace minivmm {

class VmControl {
public:
    explicit VmControl(EventFd done) : done_(std::move(done)) {}

    // Records `outcome` if nothing ended the VM before; wakes the main thread.
    void finish(Outcome outcome);
    bool finished() const { return finished_.load(std::memory_order_acquire); }
    // Appends `text` to the recorded outcome's report (the hang report after a stop).
    void add_to_report(const std::string& text);
    // The recorded outcome; only meaningful once finished().
    Outcome outcome() const;
    // Readable when the VM has finished (for poll).
    int done_fd() const { return done_.fd(); }

private:
    EventFd done_;
    mutable std::mutex mutex_;   // guards outcome_
    std::optional<Outcome> outcome_;
    std::atomic<bool> finished_{false};
};

} // namespace minivmm
