// MachineConfig: everything the command line decides, as plain data (filled by vmm/cli).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/net_spec.hpp"

namespace minivmm {

// --serial stdio|file:PATH|none: the host end of COM1.
struct SerialConfig {
    enum class Kind { Stdio, File, None };
    Kind kind = Kind::Stdio;   // stdout and stdin (raw mode and Ctrl-a x on a terminal)
    std::string path;          // Kind::File: guest output goes to this file; no input
};

// --disk PATH[,ro][,serial=ID]: one virtio-blk disk.
struct DiskConfig {
    std::string path;
    bool read_only = false;
    std::string serial;   // GET_ID answer, at most 20 bytes
};

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
    std::vector<DiskConfig> disks;     // virtio-blk disks, in virtio-mmio slot order
    std::vector<net::NetSpec> nets;    // --net, one virtio-net device each, in order
};

} // namespace minivmm
