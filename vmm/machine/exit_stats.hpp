// ExitStats: per-vCPU counts and times of exits, by exit reason and by handling device.
// Each vCPU thread owns one (no locking); the machine merges them after the threads joined.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace minivmm {

class ExitStats {
public:
    struct Row {
        uint64_t count = 0;
        uint64_t run_ns = 0;      // time inside KVM_RUN that ended with this exit
        uint64_t handle_ns = 0;   // time minivmm spent handling it
    };

    // `reason` e.g. "IO"; `device` the handler's name, "unhandled", or empty for exits that
    // involve no device. Called once per exit: it allocates only for a name not seen before.
    void record(std::string_view reason, std::string_view device, uint64_t run_ns,
                uint64_t handle_ns);
    using Table = std::map<std::string, Row, std::less<>>;
    void merge(const ExitStats& other);

    const Table& by_reason() const { return by_reason_; }
    const Table& by_device() const { return by_device_; }
    // The table --stats prints: one row per reason, then one per device, with the count,
    // total time and mean microseconds per exit (KVM_RUN round trip plus handling).
    std::string format(double wall_seconds) const;

private:
    Table by_reason_;
    Table by_device_;
};

} // namespace minivmm
