// The hang-report lines of one virtio device: its status, interrupt status and, per queue,
// the ring indexes as the driver and the device see them, who notifies whom, and what is in
// flight. Pure formatting of VirtioCore::View (any transport), unit-tested without a guest.
#pragma once

#include <string>

#include "virtio/virtio_core.hpp"

namespace minivmm::virtio {

// `name` heads the first line (e.g. "virtio-blk0 at 0xd0001000, irq 5 (vm.img)"); queue lines
// are indented by two spaces.
std::string format_transport_view(const std::string& name, const VirtioCore::View& view);

// "acknowledge driver features-ok driver-ok" for a device status byte.
std::string device_status_names(uint32_t status);

} // namespace minivmm::virtio
