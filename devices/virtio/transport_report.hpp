// The hang-report lines of one virtio device: its status, interrupt status and, per queue,
// the ring indexes as the driver and the device see them, who notifies whom, and what is in
// flight. Pure formatting of MmioTransport::View, unit-tested without a guest.
#pragma once

#include <string>

#include "virtio/mmio_transport.hpp"

namespace minivmm::virtio {

// `name` heads the first line (e.g. "virtio-blk0 (vm.img) at 0xd0000000, irq 5"); queue lines
// are indented by two spaces.
std::string format_transport_view(const std::string& name, const MmioTransport::View& view);

// "acknowledge driver features-ok driver-ok" for a device status byte.
std::string device_status_names(uint32_t status);

} // namespace minivmm::virtio
