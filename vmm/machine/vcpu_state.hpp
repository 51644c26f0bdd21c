// VcpuState: what one vCPU was doing when a hang report was asked for (--timeout, SIGTERM,
// SIGINT, SIGUSR2): its run state, registers, local APIC and pending events. Captured by the
// vCPU's own thread (a vCPU's ioctls wait for its KVM_RUN to return), formatted anywhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <linux/kvm.h>

#include "base/result.hpp"
#include "boot/symbols.hpp"
#include "kvm/vcpu.hpp"

namespace minivmm {

// What the vCPU's thread itself last recorded (VcpuLoop), next to KVM's view.
struct VcpuActivity {
    bool in_kvm_run = true;         // false: handling an exit in minivmm when asked
    uint64_t exits = 0;             // exits handled so far (kicks not counted)
    uint32_t last_exit_reason = 0;  // KVM_EXIT_*, valid when exits > 0
    uint64_t since_last_exit_ms = 0;   // since the last exit (or the start, with no exit)
};

struct VcpuState {
    uint32_t index = 0;
    VcpuActivity activity;
    uint32_t mp_state = KVM_MP_STATE_RUNNABLE;
    kvm_regs regs{};
    kvm_sregs sregs{};
    kvm_vcpu_events events{};
    std::optional<kvm_lapic_state> lapic;   // with the in-kernel irqchip
    std::optional<uint64_t> tsc;            // MSR 0x10
    std::optional<uint64_t> tsc_deadline;   // MSR 0x6e0
    std::optional<uint32_t> tsc_khz;
};

// The KVM side of the state (everything but `activity`). Call on the vCPU's thread, outside
// KVM_RUN. MSRs KVM will not read stay unset; a failing ioctl is an error.
Result<VcpuState> capture_vcpu_state(const Vcpu& vcpu, bool irqchip);

// A few lines starting "vcpu0: ...", indented by two spaces after the first. `symbols` (may be
// empty) names RIP.
std::string format_vcpu_state(const VcpuState& state, const SymbolTable& symbols);

// "long mode (64-bit)", "protected mode (32-bit)", "real mode", ...; from CR0, EFER and CS.
std::string cpu_mode_name(const kvm_sregs& sregs);
// "running or runnable", "halted", "waiting for INIT/SIPI", ... for KVM_MP_STATE_*.
std::string mp_state_name(uint32_t mp_state);

} // namespace minivmm
