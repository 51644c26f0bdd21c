// CoreState: the saved state of one virtio device's core (features, status, queues, interrupt
// status, config generation) and the device's own section, as bytes (base/state_writer.hpp):
//   section "VCOR" v1: device_type u32, device_features u64, driver_features u64, status u32,
//     flags u8 (bit 0: a non-zero DriverFeatures page >= 2 was written; bit 1: activated),
//     interrupt_status u32, config_generation u32, queue count u16, then per queue
//     section "VQUE" v1: size u16, desc u64, avail u64, used u64, features u64, flags u8
//       (bit 0 ready, bit 1 broken, bit 2 signalled_used present), next_avail u16,
//       next_used u16, signalled_used u16;
//     then section "VDEV" vN: the device's own fields, version N its state_version().
// read_core_state checks the structure (sections, lengths, flags); VirtioCore::restore_state
// checks the values against the device and the guest's memory.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "base/state_reader.hpp"
#include "base/state_writer.hpp"
#include "virtio/queue.hpp"

namespace minivmm::virtio {

struct CoreState {
    static constexpr uint16_t VERSION = 1;
    static constexpr uint16_t QUEUE_VERSION = 1;
    static constexpr size_t MAX_QUEUES = 1024;

    uint32_t device_type = 0;
    uint64_t device_features = 0;
    uint64_t driver_features = 0;
    uint32_t status = 0;
    bool driver_features_beyond_64 = false;
    bool activated = false;
    uint32_t interrupt_status = 0;
    uint32_t config_generation = 0;
    std::vector<Queue::State> queues;
    uint16_t device_version = 1;
    std::vector<uint8_t> device;   // the device's section's fields

    bool operator==(const CoreState&) const = default;
};

void write_core_state(StateWriter& out, const CoreState& state);
// The next "VCOR" section of `in`; an error (ErrorCode::Input) for a truncated or malformed one.
Result<CoreState> read_core_state(StateReader& in);

} // namespace minivmm::virtio
