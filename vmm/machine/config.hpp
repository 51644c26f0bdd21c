// MachineConfig: everything the command line decides, as plain data (filled by vmm/cli).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace minivmm {

struct MachineConfig {
    std::string demo;                  // demo guest to run when no kernel is given
    std::optional<std::string> kernel; // --kernel PATH (today: a PVH ELF)
    std::string cmdline;               // --cmdline for the kernel
    uint64_t mem_size = 0;             // bytes; 0 = the default for the guest kind
    uint32_t cpus = 1;
    bool trace_exits = false;          // one line per exit on stderr
    bool stats = false;                // exit statistics table on stderr at the end
    uint32_t timeout_seconds = 0;      // 0 = no limit
    std::string kvm_path = "/dev/kvm";   // --kvm
    bool seccomp = false;              // --seccomp: per-thread filters (vmm/sandbox)
};

} // namespace minivmm
