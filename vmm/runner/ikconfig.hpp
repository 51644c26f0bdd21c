// The kernel's embedded configuration (CONFIG_IKCONFIG): kernel/configs.c puts the gzip'd
// .config between the markers "IKCFG_ST" and "IKCFG_ED" in the kernel's read-only data. An ELF
// vmlinux holds it as it is; a bzImage inside its compressed payload (the setup header's
// payload_offset and payload_length), which is inflated here when it is gzip (zlib). The
// kernel file is the user's and treated as hostile: every offset is checked, every
// decompression bounded.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace minivmm::runner {

// Most bytes inflated while looking for the markers (a kernel is well below), and the most
// the config itself may inflate to.
constexpr uint64_t MAX_KERNEL_INFLATED = 256ULL << 20;
constexpr uint64_t MAX_CONFIG_INFLATED = 4ULL << 20;

// The config's text; nullopt when the kernel has none we can read (no markers, a payload that
// is not gzip: say so, it is not an error). ErrorCode::Input for a payload or config stream
// that is corrupt or over the bounds.
struct EmbeddedConfig {
    std::optional<std::string> text;
    std::string why_none;   // when text is empty: why ("no IKCFG_ST marker", ...)
};
Result<EmbeddedConfig> embedded_config(std::span<const uint8_t> kernel_file);

// The runner's needed options (guest-images/runner.config), with the 9p ones when shares
// are used and overlayfs when the host's root is the guest's.
std::vector<std::string> runner_needed_options(bool shares, bool host_root = false);

// The options of NEEDED that CONFIG (a .config's text) does not set to y.
std::vector<std::string> missing_options(std::string_view config,
                                         const std::vector<std::string>& needed);

} // namespace minivmm::runner
