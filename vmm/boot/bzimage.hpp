// bzImage parser and loader: Linux x86 boot protocol (Documentation/arch/x86/boot.rst),
// protocol 2.10 or later, 64-bit entry only (the kernel is entered at load address + 0x200).
#pragma once

#include <cstdint>
#include <span>

#include "base/result.hpp"
#include "boot/loaded_kernel.hpp"
#include "memory/guest_memory.hpp"

namespace minivmm {

// The parts of the setup header the loader and the machine builder need.
struct BzImageInfo {
    uint16_t protocol_version = 0;  // e.g. 0x020f
    uint64_t setup_size = 0;        // boot sector + setup sectors, bytes
    uint64_t pm_offset = 0;         // file offset of the protected-mode kernel (== setup_size)
    uint64_t pm_size = 0;           // bytes of protected-mode kernel in the file
    uint32_t init_size = 0;         // memory the kernel needs from its load address
    uint64_t pref_address = 0;      // preferred load address (informational: we load at 1 MiB)
    uint32_t kernel_alignment = 0;
    bool relocatable = false;
    uint32_t initrd_addr_max = 0;   // highest address the initrd's last byte may occupy
    uint32_t cmdline_size = 0;      // longest command line, without the terminating NUL
};

// Validates the file's setup header. Every malformed input (short file, bad magic, protocol older
// than 2.10, setup past the end, no 64-bit entry, empty kernel) is an ErrorCode::Input error.
Result<BzImageInfo> parse_bzimage(std::span<const uint8_t> file);

// Copies the protected-mode kernel to KERNEL_LOAD_ADDR. Fails if `info` does not describe
// `file`, or the kernel or its init_size do not fit in RAM. The returned header is the file's
// setup header (bytes past the header's own length zeroed).
Result<LoadedKernel> load_bzimage(const GuestMemory& mem, std::span<const uint8_t> file,
                                  const BzImageInfo& info);

} // namespace minivmm
