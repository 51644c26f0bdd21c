#include "kvm/vcpu_exit.hpp"

#include <algorithm>

namespace minivmm {

VcpuExit decode_exit(kvm_run& run) {
    VcpuExit e;
    e.raw_reason = run.exit_reason;
    switch (run.exit_reason) {
    case KVM_EXIT_IO:
        e.reason = ExitReason::Io;
        e.is_write = run.io.direction == KVM_EXIT_IO_OUT;
        e.address = run.io.port;
        e.size = run.io.size;
        e.count = run.io.count;
        e.data = reinterpret_cast<uint8_t*>(&run) + run.io.data_offset;
        break;
    case KVM_EXIT_MMIO:
        e.reason = ExitReason::Mmio;
        e.is_write = run.mmio.is_write != 0;
        e.address = run.mmio.phys_addr;
        e.size = run.mmio.len;
        e.data = run.mmio.data;
        break;
    case KVM_EXIT_HLT: e.reason = ExitReason::Hlt; break;
    case KVM_EXIT_SHUTDOWN: e.reason = ExitReason::Shutdown; break;
    case KVM_EXIT_INTERNAL_ERROR: {
        e.reason = ExitReason::InternalError;
        e.suberror = run.internal.suberror;
        uint32_t n = std::min<uint32_t>(run.internal.ndata, 16);
        e.internal_data = std::span<const uint64_t>(reinterpret_cast<const uint64_t*>(run.internal.data), n);
        // Emulation failures may carry the instruction bytes (flags, then size and bytes).
        if (e.suberror == KVM_INTERNAL_ERROR_EMULATION && run.emulation_failure.ndata >= 3 &&
            (run.emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
            e.insn_size = std::min<uint8_t>(run.emulation_failure.insn_size, 15);
            std::copy_n(run.emulation_failure.insn_bytes, e.insn_size, e.insn_bytes);
        }
        break;
    }
    case KVM_EXIT_FAIL_ENTRY:
        e.reason = ExitReason::FailEntry;
        e.fail_reason = run.fail_entry.hardware_entry_failure_reason;
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        e.reason = ExitReason::SystemEvent;
        e.event_type = run.system_event.type;
        break;
    case KVM_EXIT_INTR: e.reason = ExitReason::Interrupted; break;
    default: e.reason = ExitReason::Other; break;
    }
    return e;
}

std::string_view exit_reason_name(uint32_t raw_reason) {
    switch (raw_reason) {
    case KVM_EXIT_UNKNOWN: return "UNKNOWN";
    case KVM_EXIT_EXCEPTION: return "EXCEPTION";
    case KVM_EXIT_IO: return "IO";
    case KVM_EXIT_HYPERCALL: return "HYPERCALL";
    case KVM_EXIT_DEBUG: return "DEBUG";
    case KVM_EXIT_HLT: return "HLT";
    case KVM_EXIT_MMIO: return "MMIO";
    case KVM_EXIT_IRQ_WINDOW_OPEN: return "IRQ_WINDOW_OPEN";
    case KVM_EXIT_SHUTDOWN: return "SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
    case KVM_EXIT_INTR: return "INTR";
    case KVM_EXIT_SET_TPR: return "SET_TPR";
    case KVM_EXIT_TPR_ACCESS: return "TPR_ACCESS";
    case KVM_EXIT_NMI: return "NMI";
    case KVM_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
    case KVM_EXIT_OSI: return "OSI";
    case KVM_EXIT_PAPR_HCALL: return "PAPR_HCALL";
    case KVM_EXIT_WATCHDOG: return "WATCHDOG";
    case KVM_EXIT_EPR: return "EPR";
    case KVM_EXIT_SYSTEM_EVENT: return "SYSTEM_EVENT";
    case KVM_EXIT_IOAPIC_EOI: return "IOAPIC_EOI";
    case KVM_EXIT_HYPERV: return "HYPERV";
    case KVM_EXIT_DIRTY_RING_FULL: return "DIRTY_RING_FULL";
    case KVM_EXIT_X86_RDMSR: return "X86_RDMSR";
    case KVM_EXIT_X86_WRMSR: return "X86_WRMSR";
    case KVM_EXIT_AP_RESET_HOLD: return "AP_RESET_HOLD";
    case KVM_EXIT_X86_BUS_LOCK: return "X86_BUS_LOCK";
    default: return "UNKNOWN";
    }
}

} // namespace minivmm
