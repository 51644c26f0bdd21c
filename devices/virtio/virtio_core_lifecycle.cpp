// VirtioCore's lifecycle: pause and resume, and its state saved and restored (core_state.hpp).
#include <linux/virtio_config.h>

#include "virtio/virtio_core.hpp"

namespace minivmm::virtio {

void VirtioCore::pause() noexcept {
    std::lock_guard lock(mutex_);   // waits for a queue pass in progress
    if (paused_) return;
    paused_ = true;
    if (activated_) device_->pause(*this);
}

void VirtioCore::resume() noexcept {
    std::lock_guard lock(mutex_);
    if (!paused_) return;
    paused_ = false;
    if (activated_) device_->resume(*this);
}

bool VirtioCore::paused() const {
    std::lock_guard lock(mutex_);
    return paused_;
}

Result<std::vector<uint8_t>> VirtioCore::save_state() const {
    std::lock_guard lock(mutex_);
    if (!paused_) return Error(ErrorCode::Invalid, "Virtio device state: the device is not paused");
    CoreState s;
    s.device_type = device_type_;
    s.device_features = device_features_;
    s.driver_features = driver_features_;
    s.status = status_;
    s.driver_features_beyond_64 = driver_features_beyond_64_;
    s.activated = activated_;
    s.interrupt_status = interrupt_status();
    s.config_generation = config_generation();
    for (size_t i = 0; i < queues_.size(); ++i) {
        auto q = queues_[i].state();
        if (!q) return q.error().with_context(fmt::format("Virtio device state, queue {}", i));
        s.queues.push_back(*q);
    }
    s.device_version = device_->state_version();
    StateWriter device;
    device_->save_state(device);
    s.device = device.take();
    StateWriter out;
    write_core_state(out, s);
    return out.take();
}

// The values of a well-formed state, against this device: what a driver could have reached.
Result<void> VirtioCore::check_state(const CoreState& s) const {
    auto bad = [](std::string what) {
        return Error(ErrorCode::Input, "Saved virtio device state: " + what);
    };
    if (s.device_type != device_type_ || s.device_features != device_features_)
        return bad(fmt::format("device type {} features {:#x}, this device is type {} features "
                               "{:#x}", s.device_type, s.device_features, device_type_,
                               device_features_));
    if (s.queues.size() != num_queues_)
        return bad(fmt::format("{} queues, the device has {}", s.queues.size(), num_queues_));
    if ((s.driver_features & ~device_features_) != 0)
        return bad(fmt::format("driver features {:#x} were not offered", s.driver_features));
    const uint32_t driver_bits = s.status & ~static_cast<uint32_t>(VIRTIO_CONFIG_S_NEEDS_RESET);
    if (!status_in_order(driver_bits)) return bad(fmt::format("status {:#x}", s.status));
    const bool driver_ok = s.status & VIRTIO_CONFIG_S_DRIVER_OK;
    const bool needs_reset = s.status & VIRTIO_CONFIG_S_NEEDS_RESET;
    // Activation happens at DRIVER_OK and only a failed one leaves it undone (NEEDS_RESET).
    if ((s.activated && !driver_ok) || (driver_ok && !needs_reset && !s.activated))
        return bad(fmt::format("status {:#x} with activated={}", s.status, s.activated));
    if ((s.interrupt_status & ~(INT_USED_BUFFER | INT_CONFIG)) != 0)
        return bad(fmt::format("interrupt status {:#x}", s.interrupt_status));
    for (size_t i = 0; i < s.queues.size(); ++i) {
        const Queue::State& q = s.queues[i];
        if (q.ready && (!(s.status & VIRTIO_CONFIG_S_FEATURES_OK) || q.features != s.driver_features))
            return bad(fmt::format("queue {} ready in status {:#x} with features {:#x}", i,
                                   s.status, q.features));
    }
    return {};
}

// With mutex_ held and the device reset: queues (checked against the memory), then the core,
// then the device re-activated and given its section.
Result<void> VirtioCore::apply_state(const CoreState& s) {
    for (size_t i = 0; i < queues_.size(); ++i) {
        auto r = queues_[i].restore(s.queues[i], mem_);
        if (!r) return r.error().with_context(fmt::format("Saved virtio device state, queue {}", i));
        addresses_[i] = {s.queues[i].desc, s.queues[i].avail, s.queues[i].used};
    }
    status_ = s.status;
    driver_features_ = s.driver_features;
    driver_features_beyond_64_ = s.driver_features_beyond_64;
    interrupt_status_.store(s.interrupt_status, std::memory_order_release);
    config_generation_.store(s.config_generation, std::memory_order_release);
    if (s.activated) {
        auto r = device_->activate(*this, driver_features_);
        if (!r) return r.error().with_context("Saved virtio device state: activation");
        activated_ = true;
    }
    StateReader device(s.device);
    return device_->restore_state(device, s.device_version);
}

Result<void> VirtioCore::restore_state(std::span<const uint8_t> bytes) {
    StateReader in(bytes);
    auto s = read_core_state(in);
    if (!s) return s.error();
    MINIVMM_TRY(in.finish("virtio device"));
    MINIVMM_TRY(check_state(*s));
    std::lock_guard lock(mutex_);
    reset_locked();
    paused_ = true;
    if (auto r = apply_state(*s); !r) {
        reset_locked();
        return r.error();
    }
    if (activated_) device_->pause(*this);
    return {};
}

} // namespace minivmm::virtio
