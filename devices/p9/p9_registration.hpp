// virtio-9p in the device registry: --share DIR[,tag=T][,rw], repeatable. The shares live in
// MachineConfig::shares (share_spec.hpp); share_options() turns them into the plan's devices.
#pragma once

#include <span>
#include <vector>

#include "base/result.hpp"
#include "device_registry.hpp"
#include "p9/share_spec.hpp"

namespace minivmm::p9 {

extern const DeviceType DEVICE_TYPE;

// One device option per share, in order, each checked (check_share) against those before it.
Result<std::vector<DeviceOption>> share_options(std::span<const ShareSpec> shares);

} // namespace minivmm::p9
