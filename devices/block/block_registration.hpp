// virtio-blk in the device registry: --disk PATH[,ro][,serial=ID], repeatable.
#pragma once

#include <string>

#include "base/result.hpp"
#include "device_type.hpp"

namespace minivmm::block {

// --disk PATH[,ro][,serial=ID]: one virtio-blk disk.
struct DiskConfig {
    std::string path;
    bool read_only = false;
    std::string serial;   // GET_ID answer, at most 20 bytes
};

// "PATH[,ro][,serial=ID]". ErrorCode::Usage for an empty path, an unknown option or a serial
// longer than 20 bytes; the file itself is checked when the machine opens it.
Result<DiskConfig> parse_disk_option(const std::string& text);

extern const DeviceType DEVICE_TYPE;

} // namespace minivmm::block
