// Kernel command line builder and initrd placement (Linux x86 boot protocol: cmdline_size,
// initrd_addr_max; for PVH the same limits are passed by the caller).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "memory/guest_address.hpp"

namespace minivmm {

// Space-separated kernel parameters with a fixed capacity: the kernel's cmdline_size, the longest
// command line it accepts without the terminating NUL. Going over is an error, never truncation.
class Cmdline {
public:
    explicit Cmdline(uint64_t capacity) : capacity_(capacity) {}

    // Appends `param` (e.g. "console=ttyS0" or a user's "quiet loglevel=3"). Fails, leaving the
    // line unchanged, if `param` is empty, contains a NUL, or the result would exceed capacity.
    Result<void> add(std::string_view param);
    // Appends "key=value".
    Result<void> add(std::string_view key, std::string_view value);

    const std::string& str() const { return line_; }
    uint64_t capacity() const { return capacity_; }
    // The bytes to copy into guest memory: the line and its terminating NUL.
    std::vector<uint8_t> bytes() const;

private:
    uint64_t capacity_;
    std::string line_;
};

// "virtio_mmio.device=<size>@<base>:<irq>", the parameter by which a kernel built with
// CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES finds a virtio-mmio transport (drivers/virtio/virtio_mmio.c).
// The size is written with a K/M suffix when it is a whole number of them, the base in hex.
std::string virtio_mmio_device_param(uint64_t size, uint64_t base, uint32_t irq);

// Whether `line` (a user's command line) gives the kernel the parameter `word` exactly (e.g.
// "acpi=off"), or one that starts with `word` when `match` is Prefix (e.g. "pci="). Words are
// separated by whitespace; the words after a lone "--" are init's arguments and do not count.
// Quoted values with spaces are not parsed: a quoted word counts as its whitespace pieces.
enum class ParamMatch { Whole, Prefix };
bool has_kernel_param(std::string_view line, std::string_view word,
                      ParamMatch match = ParamMatch::Whole);

// The boot protocol's initrd_addr_max when the kernel gives none (protocol < 2.03, or PVH).
constexpr uint64_t DEFAULT_INITRD_ADDR_MAX = 0x37ff'ffff;

// Places an initrd of `size` bytes at the highest page-aligned address such that it ends at or
// below `ram_top` (the end of RAM below 4 GiB) and its last byte is at or below `initrd_addr_max`,
// and it starts at or above `kernel_end` (rounded up to a page). An ErrorCode::Input error if the
// initrd is empty or no such address exists.
Result<GuestAddress> place_initrd(GuestAddress ram_top, uint64_t initrd_addr_max, uint64_t size,
                                  GuestAddress kernel_end);

} // namespace minivmm
