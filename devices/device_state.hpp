// DeviceState: a device's own state as bytes, for pause/resume and (later) snapshot files: one
// way for every device, virtio (through VirtioDevice, inside its core's state) and legacy
// (I8042). The layout of the fields is the device's, named by state_version(); the bytes are
// written with a StateWriter and read back with a StateReader (vmm/base/state_writer.hpp).
#pragma once

#include <cstdint>

#include "base/result.hpp"
#include "base/state_reader.hpp"
#include "base/state_writer.hpp"

namespace minivmm {

class DeviceState {
public:
    virtual ~DeviceState() = default;
    virtual uint16_t state_version() const { return 1; }
    // Only while the device is quiet (the machine paused): the fields in state_version()'s
    // layout. The default has none.
    virtual void save_state(StateWriter& /*out*/) const {}
    // Untrusted bytes (a snapshot file): range-check every value; an error for a version or a
    // value not understood, and then the device keeps no part of the bad state.
    virtual Result<void> restore_state(StateReader& in, uint16_t version) {
        if (version != state_version())
            return Error(ErrorCode::Input, fmt::format("Saved device state version {}", version));
        return in.finish("device state");
    }
};

} // namespace minivmm
