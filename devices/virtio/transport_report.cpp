// Hang-report lines of a virtio device; see transport_report.hpp.
#include "virtio/transport_report.hpp"

#include <linux/virtio_config.h>
#include "virtio/virtio_ring.hpp"

#include <fmt/format.h>

namespace minivmm::virtio {

namespace {

std::string queue_line(size_t index, const Queue::View& q) {
    if (!q.ready) return fmt::format("queue {}: not ready", index);
    const auto waiting = static_cast<uint16_t>(q.avail_idx - q.next_avail);
    const auto unpublished = static_cast<uint16_t>(q.next_used - q.used_idx);
    std::string s = fmt::format("queue {}: size {}{}; avail {} (device took {}: {} waiting); "
                                "used {}", index, q.size, q.broken ? " BROKEN" : "",
                                q.avail_idx, q.next_avail, waiting, q.used_idx);
    if (unpublished) s += fmt::format(" (+{} not yet published)", unpublished);
    s += fmt::format("; in flight {}", q.in_flight);
    // Who tells whom: the driver's kicks (device side) and the device's interrupts (driver side).
    if (q.event_idx) {
        s += fmt::format("; driver kicks when avail passes {}", q.avail_event);
        s += fmt::format("; device interrupts when used passes {}", q.used_event);
    } else {
        s += (q.used_flags & VRING_USED_F_NO_NOTIFY) ? "; driver kicks: off (device polls)"
                                                      : "; driver kicks: on";
        s += (q.avail_flags & VRING_AVAIL_F_NO_INTERRUPT) ? "; interrupts: off (driver polls)"
                                                           : "; interrupts: on";
    }
    return s;
}

} // namespace

std::string device_status_names(uint32_t status) {
    static const struct {
        uint32_t bit;
        const char* name;
    } BITS[] = {{VIRTIO_CONFIG_S_ACKNOWLEDGE, "acknowledge"},
                {VIRTIO_CONFIG_S_DRIVER, "driver"},
                {VIRTIO_CONFIG_S_FEATURES_OK, "features-ok"},
                {VIRTIO_CONFIG_S_DRIVER_OK, "driver-ok"},
                {VIRTIO_CONFIG_S_NEEDS_RESET, "NEEDS-RESET"},
                {VIRTIO_CONFIG_S_FAILED, "FAILED"}};
    std::string s;
    for (const auto& b : BITS)
        if (status & b.bit) s += (s.empty() ? "" : " ") + std::string(b.name);
    return s.empty() ? "reset" : s;
}

std::string format_transport_view(const std::string& name, const VirtioCore::View& v) {
    std::string irq;
    if (v.interrupt_status & VirtioCore::INT_USED_BUFFER) irq += " used-buffer";
    if (v.interrupt_status & VirtioCore::INT_CONFIG) irq += " config";
    std::string out = fmt::format("{}: status {:#x} ({}), interrupt status {:#x}{}\n", name,
                                  v.status, device_status_names(v.status), v.interrupt_status,
                                  irq.empty() ? "" : " (" + irq.substr(1) + " not acknowledged)");
    for (size_t i = 0; i < v.queues.size(); ++i) out += "  " + queue_line(i, v.queues[i]) + "\n";
    return out;
}

} // namespace minivmm::virtio
