// MachineConfig: everything the command line decides, as plain data (filled by vmm/cli).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "device_registry.hpp"
#include "p9/share_spec.hpp"

namespace minivmm {

// --serial stdio|file:PATH|none: the host end of COM1.
struct SerialConfig {
    enum class Kind { Stdio, File, None };
    Kind kind = Kind::Stdio;   // stdout and stdin (raw mode and Ctrl-a x on a terminal)
    std::string path;          // Kind::File: guest output goes to this file; no input
};

// A restored device on another host end: the snapshot's `index`-th device of the option
// `option` ("disk", "net") is opened as `text` says (`--restore DIR --disk new.img`,
// PUT /snapshot/load's network_overrides). Its type's restore_override merges the two.
struct DeviceOverride {
    std::string option;
    size_t index = 0;
    std::string text;
};

// --restore STATE,MEM[,resume] and PUT /snapshot/load: the machine is rebuilt from a snapshot
// (vmm/snapshot) instead of a guest image: its size, vCPUs, devices and guest come from the
// state file (the options above that say otherwise are replaced), its RAM is MEM mapped
// copy-on-write. It starts paused unless `resume`.
struct RestoreConfig {
    std::string state;
    std::string memory;
    bool resume = false;
    std::vector<DeviceOverride> overrides;
};

// A snapshot directory (`minivmm ctl SOCKET snapshot DIR`, `--restore DIR`) holds these two.
inline constexpr const char* SNAPSHOT_STATE_NAME = "vm.state";
inline constexpr const char* SNAPSHOT_MEMORY_NAME = "vm.mem";

struct MachineConfig {
    std::string demo;                  // demo guest to run when no kernel is given
    std::optional<std::string> kernel; // --kernel PATH: a bzImage or a PVH ELF vmlinux
    std::optional<std::string> initrd; // --initrd PATH: loaded for the kernel
    std::string cmdline;               // --cmdline for the kernel
    std::optional<std::string> system_map; // --system-map PATH: symbols for state reports
    std::optional<std::string> dump_dtb; // --dump-dtb PATH: write the device tree and stop
    uint64_t mem_size = 0;             // bytes; 0 = the default for the guest kind
    uint32_t cpus = 1;
    bool trace_exits = false;          // one line per exit on stderr
    bool stats = false;                // exit statistics table on stderr at the end
    bool show_memory = false;          // memory slots and layout on stderr at start
    uint32_t timeout_seconds = 0;      // 0 = no limit
    std::string kvm_path = "/dev/kvm";   // --kvm
    // Per-thread seccomp filters (vmm/sandbox). The command line turns them on unless
    // --no-seccomp; the struct's default is off because Machine::run() confines its calling
    // thread for good, which an in-process caller (a test) must ask for explicitly.
    bool seccomp = false;
    SerialConfig serial;               // --serial
    // --api-socket PATH: the management API (vmm/api). With neither --kernel nor --demo the
    // VM waits for the API to configure and start it (start_from_api).
    std::optional<std::string> api_socket;
    bool start_from_api = false;
    // minivmm --kernel K ... -- CMD [ARGS...]: the command runner (vmm/runner/job.hpp) runs
    // CMD in the guest and the VM ends with its status. Empty: no runner.
    std::vector<std::string> command;
    uint32_t boot_timeout_seconds = 0;   // runner: its init must start within this (0: no limit)
    // --disk, --net, --rng, ...: each type's in the order given (the plan orders them by
    // type, the registry's order, then by option within a type).
    std::vector<DeviceOption> devices;
    // --share: host directories for the guest (virtio-9p), in order; other code may add its
    // own (checked when the machine is planned). They follow the other devices' slots.
    std::vector<p9::ShareSpec> shares;
    std::optional<RestoreConfig> restore;
};

} // namespace minivmm
