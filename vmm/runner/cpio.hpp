// CpioWriter: an uncompressed cpio archive in the "newc" format (SVR4 without CRC, magic
// 070701), the one Linux's initramfs unpacker reads (Documentation/driver-api/early-userspace/
// buffer-format.rst). Only what the command runner needs: directories and regular files.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace minivmm::runner {

class CpioWriter {
public:
    // NAME is relative ("minivmm/init"): no leading '/', no NUL, at most 4095 bytes.
    // MODE holds only the permission bits (07777); the type bits are added here.
    Result<void> add_directory(std::string_view name, uint32_t mode);
    Result<void> add_file(std::string_view name, uint32_t mode, std::span<const uint8_t> data);
    // Appends the TRAILER!!! entry and returns the archive (a multiple of 4 bytes). The
    // writer is empty afterwards.
    std::vector<uint8_t> finish();

private:
    Result<void> add(std::string_view name, uint32_t mode, std::span<const uint8_t> data);
    void pad4();

    std::vector<uint8_t> out_;
    uint32_t next_ino_ = 1;
};

} // namespace minivmm::runner
