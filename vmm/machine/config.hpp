// MachineConfig: everything the command line decides, as plain data (filled by vmm/cli).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace minivmm {

struct MachineConfig {
    std::string demo;                  // demo guest to run when no kernel is given
    std::optional<std::string> kernel; // --kernel PATH: a bzImage or a PVH ELF vmlinux
    std::optional<std::string> initrd; // --initrd PATH: loaded for the kernel
    std::string cmdline;               // --cmdline for the kernel
    std::optional<std::string> dump_dtb; // --dump-dtb PATH: write the device tree and stop
    uint64_t mem_size = 0;             // bytes; 0 = the default for the guest kind
    uint32_t cpus = 1;
    bool trace_exits = false;          // one line per exit on stderr
    bool stats = false;                // exit statistics table on stderr at the end
    uint32_t timeout_seconds = 0;      // 0 = no limit
    std::string kvm_path = "/dev/kvm";
};

} // namespace minivmm
