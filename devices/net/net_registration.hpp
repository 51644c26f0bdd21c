// virtio-net in the device registry: --net NAME | --net tap=NAME,mac=MAC, repeatable.
#pragma once

#include "device_type.hpp"

namespace minivmm::net {

extern const DeviceType DEVICE_TYPE;

} // namespace minivmm::net
