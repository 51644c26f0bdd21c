// DeviceType: one kind of virtio device as the machine sees it: its command-line option, what
// it needs from the plan (a virtio-mmio slot with its queues), and its factory. A device type
// is its own folder plus one line in device_registry.cpp; the machine loops over the
// registry and never names a type.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.hpp"
#include "event_sources.hpp"

namespace minivmm {

namespace virtio {
class VirtioDevice;
}

// One device option (one --disk PATH, one --rng) parsed and checked; nothing opened yet.
class DeviceArgs {
public:
    virtual ~DeviceArgs() = default;
    // What reports name the host end by: the image path, the tap name, "getrandom".
    virtual std::string host_end() const = 0;
    // Whether the device reads minivmm's stdin (--console stdio): then the serial console
    // does not (its output stays on stdout).
    virtual bool takes_stdin() const { return false; }
    // Why a snapshot cannot hold this device (state that lives outside minivmm, such as the
    // connections of a passt it started), or nothing: a snapshot refuses the machine then.
    virtual std::optional<std::string> snapshot_refusal() const { return std::nullopt; }
};

// One device of a machine, made before /dev/kvm from its args (Machine step 1) and realised
// as a virtio device in step 3.
class DeviceInstance {
public:
    virtual ~DeviceInstance() = default;
    // Machine::create only, after step 1: host resources --dump-dtb must not touch (a tap).
    virtual Result<void> open_host() { return {}; }
    // Step 3: the device; it asks `events` (which outlives it) for its wake-ups.
    virtual Result<std::shared_ptr<virtio::VirtioDevice>> realise(EventSources& events) = 0;
    // After every thread has stopped (whatever ended the VM): e.g. make a disk durable.
    virtual void at_exit() noexcept {}
    // The machine has just paused (Machine::pause: vCPUs parked, every virtio device paused,
    // so nothing else uses the device): e.g. make what the guest wrote durable, as QEMU's
    // stop does, so a paused VM's disks can be copied. On the main thread.
    virtual void paused() noexcept {}
    // --stats lines for this device (its counters), or nothing.
    virtual std::string stats() const { return {}; }
};

struct DeviceType {
    std::string_view option;   // "disk": --disk, repeatable
    std::string_view help;     // the option's --help text
    bool value_optional;       // "--rng" alone means "--rng ''"
    std::string_view name;     // "virtio-blk": the plan names its devices virtio-blk0, ...
    size_t num_queues;
    // One option's text; `earlier` holds this type's options before it (for duplicate
    // checks). Errors are ErrorCode::Usage.
    Result<std::shared_ptr<const DeviceArgs>> (*parse)(
        const std::string& text, std::span<const std::shared_ptr<const DeviceArgs>> earlier);
    // Machine step 1, before /dev/kvm: checks and opens what the device needs from the host
    // (an image: errors name it). `index` is the option's position among this type's.
    Result<std::unique_ptr<DeviceInstance>> (*prepare)(const DeviceArgs& args, size_t index);
    // Restore with an override (`--restore DIR --disk NEW`): the option text that puts the
    // snapshot's device (`recorded`) on `given`'s host end, keeping what the guest has already
    // read from the device (a disk's read-only flag and serial, a card's MAC). ErrorCode::Input
    // when `given` asks to change such a thing. Null: the type's devices cannot be overridden.
    Result<std::string> (*restore_override)(const DeviceArgs& recorded, const DeviceArgs& given);
};

} // namespace minivmm
