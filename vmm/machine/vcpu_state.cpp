// vCPU state capture and its report lines; see vcpu_state.hpp.
#include "machine/vcpu_state.hpp"

#include <fmt/format.h>

#include "kvm/vcpu_exit.hpp"
#include "machine/lapic_view.hpp"

namespace minivmm {

namespace {
constexpr uint32_t MSR_TSC = 0x10;
constexpr uint32_t MSR_TSC_DEADLINE = 0x6e0;
constexpr uint64_t RFLAGS_IF = 1u << 9;
constexpr uint64_t CR0_PE = 1u << 0;
constexpr uint64_t EFER_LMA = 1u << 10;

std::optional<uint64_t> read_msr(const Vcpu& vcpu, uint32_t index) {
    auto msrs = vcpu.get_msrs({index});
    if (!msrs || msrs->empty()) return std::nullopt;
    return (*msrs)[0].data;
}

std::string events_line(const kvm_vcpu_events& e) {
    std::string s;
    auto add = [&s](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
    if (e.exception.injected || e.exception.pending)
        add(fmt::format("exception {} {}", e.exception.nr,
                        e.exception.injected ? "being injected" : "pending"));
    if (e.interrupt.injected) add(fmt::format("interrupt {:#04x} being injected", e.interrupt.nr));
    if (e.interrupt.shadow) add("interrupt shadow (sti/mov ss)");
    if (e.nmi.injected || e.nmi.pending) add(e.nmi.injected ? "NMI being injected" : "NMI pending");
    if (e.nmi.masked) add("NMIs blocked");
    return s.empty() ? "none" : s;
}
} // namespace

std::string cpu_mode_name(const kvm_sregs& s) {
    if (!(s.cr0 & CR0_PE)) return "real mode";
    if (s.efer & EFER_LMA) return s.cs.l ? "long mode (64-bit)" : "compatibility mode (32-bit)";
    return s.cs.db ? "protected mode (32-bit)" : "protected mode (16-bit)";
}

std::string mp_state_name(uint32_t mp_state) {
    switch (mp_state) {
    case KVM_MP_STATE_RUNNABLE: return "runnable";
    case KVM_MP_STATE_UNINITIALIZED: return "waiting for INIT/SIPI";
    case KVM_MP_STATE_INIT_RECEIVED: return "INIT received, waiting for SIPI";
    case KVM_MP_STATE_HALTED: return "halted (HLT, waiting for an interrupt)";
    case KVM_MP_STATE_SIPI_RECEIVED: return "SIPI received";
    default: return fmt::format("mp_state {}", mp_state);
    }
}

Result<VcpuState> capture_vcpu_state(const Vcpu& vcpu, bool irqchip) {
    VcpuState st;
    st.index = vcpu.index();
    auto mp = vcpu.get_mp_state();
    if (!mp) return mp.error();
    st.mp_state = *mp;
    auto regs = vcpu.get_regs();
    if (!regs) return regs.error();
    st.regs = *regs;
    auto sregs = vcpu.get_sregs();
    if (!sregs) return sregs.error();
    st.sregs = *sregs;
    auto events = vcpu.get_vcpu_events();
    if (!events) return events.error();
    st.events = *events;
    if (irqchip) {
        auto lapic = vcpu.get_lapic();
        if (!lapic) return lapic.error();
        st.lapic = *lapic;
    }
    st.tsc = read_msr(vcpu, MSR_TSC);
    st.tsc_deadline = read_msr(vcpu, MSR_TSC_DEADLINE);
    if (auto khz = vcpu.get_tsc_khz()) st.tsc_khz = *khz;
    return st;
}

std::string format_vcpu_state(const VcpuState& st, const SymbolTable& symbols) {
    const VcpuActivity& a = st.activity;
    std::string where = a.in_kvm_run ? "in KVM_RUN" : "in minivmm, handling an exit";
    std::string last = a.exits == 0
        ? fmt::format("no exit in {:.1f} s", static_cast<double>(a.since_last_exit_ms) / 1000)
        : fmt::format("{} exits, the last ({}) {:.1f} s ago", a.exits,
                      exit_reason_name(a.last_exit_reason),
                      static_cast<double>(a.since_last_exit_ms) / 1000);
    std::string out = fmt::format("vcpu{}: {}; {}; {}\n", st.index, mp_state_name(st.mp_state),
                                  where, last);
    auto sym = symbols.describe(st.regs.rip);
    out += fmt::format("  rip {:#x}{} rsp {:#x}, cpl {}, {}, rflags {:#x} (interrupts {})\n",
                       st.regs.rip, sym ? fmt::format(" <{}>", *sym) : std::string(),
                       st.regs.rsp, st.sregs.cs.dpl, cpu_mode_name(st.sregs), st.regs.rflags,
                       st.regs.rflags & RFLAGS_IF ? "on" : "off");
    const kvm_regs& r = st.regs;
    out += fmt::format("  rax {:x} rbx {:x} rcx {:x} rdx {:x} rsi {:x} rdi {:x} rbp {:x}\n", r.rax,
                       r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp);
    out += fmt::format("  r8 {:x} r9 {:x} r10 {:x} r11 {:x} r12 {:x} r13 {:x} r14 {:x} r15 {:x}; "
                       "cr3 {:x}\n", r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15,
                       st.sregs.cr3);
    if (st.lapic)
        out += "  " + describe_lapic(decode_lapic(*st.lapic), st.tsc, st.tsc_deadline, st.tsc_khz) +
               "\n";
    out += fmt::format("  events: {}\n", events_line(st.events));
    return out;
}

} // namespace minivmm
