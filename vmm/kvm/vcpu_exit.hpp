// VcpuExit: a decoded copy of why KVM_RUN returned (struct kvm_run's exit union), so the run
// loop and the exit tracer never touch the raw union.
#pragma once

#include <cstdint>
#include <linux/kvm.h>
#include <span>
#include <string_view>

namespace minivmm {

enum class ExitReason {
    Io,            // port I/O (KVM_EXIT_IO)
    Mmio,          // access to guest-physical memory with no RAM behind it (KVM_EXIT_MMIO)
    Hlt,           // HLT with no in-kernel irqchip
    Shutdown,      // triple fault
    InternalError, // KVM could not continue, e.g. its instruction emulator failed
    FailEntry,     // the hardware (or PVM) refused to enter the guest
    SystemEvent,   // guest asked for shutdown/reset through a paravirtual path
    Interrupted,   // KVM_RUN returned EINTR (a kick) or immediate_exit was set
    Other,         // any other KVM_EXIT_* (see raw_reason)
};

struct VcpuExit {
    ExitReason reason = ExitReason::Other;
    uint32_t raw_reason = 0;   // KVM_EXIT_* as KVM gave it

    // Io and Mmio
    bool is_write = false;
    uint64_t address = 0;      // port number or guest-physical address
    uint32_t size = 0;         // bytes per access: 1, 2, 4 (8 for MMIO)
    uint32_t count = 1;        // string I/O (rep ins/outs) repeats the access
    uint8_t* data = nullptr;   // inside the kvm_run page: size * count bytes

    // InternalError
    uint32_t suberror = 0;
    std::span<const uint64_t> internal_data;   // KVM's extra words
    uint8_t insn_size = 0;                     // emulation failures: the instruction's bytes
    uint8_t insn_bytes[15] = {};               //   when KVM reports them (else insn_size 0)
    // FailEntry
    uint64_t fail_reason = 0;
    // SystemEvent
    uint32_t event_type = 0;
};

// Decodes the exit in `run`; pure, so it is unit-tested on a hand-filled kvm_run.
VcpuExit decode_exit(kvm_run& run);
// "IO", "MMIO", "HLT", ... for every KVM_EXIT_* value; "UNKNOWN(n)" style names are not
// returned: unknown values give "UNKNOWN".
std::string_view exit_reason_name(uint32_t raw_reason);

} // namespace minivmm
