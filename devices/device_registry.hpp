// The device registry: every DeviceType, and the device options of a configuration.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "device_type.hpp"

namespace minivmm {

// One device option of a configuration, parsed.
struct DeviceOption {
    const DeviceType* type = nullptr;
    std::shared_ptr<const DeviceArgs> args;
    std::string text;   // the option's text as given ("vm.img,ro"), for descriptions (the API)
};

// Every device type, in virtio-mmio slot order: disks, then nets, then the others.
std::span<const DeviceType* const> device_types();

// The type whose option is `option` ("disk"), or null.
const DeviceType* find_device_type(std::string_view option);

// Parses `text` as a --`option` and appends it to `options` (ErrorCode::Usage for an unknown
// option or a bad text).
Result<void> add_device_option(std::vector<DeviceOption>& options, std::string_view option,
                               const std::string& text);

} // namespace minivmm
