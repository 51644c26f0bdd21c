// virtio-console in the device registry: --console stdio|file=PATH|socket=PATH, repeatable.
#pragma once

#include <string>

#include "console/console_device.hpp"
#include "device_type.hpp"

namespace minivmm::console {

extern const DeviceType DEVICE_TYPE;

// The --stats line of one console: "console0 (socket=PATH): N bytes out, N dropped, ...".
std::string format_console_counters(const std::string& name, const ConsoleDevice& device);

} // namespace minivmm::console
