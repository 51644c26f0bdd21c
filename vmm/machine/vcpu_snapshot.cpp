// vCPU state for snapshots; see vcpu_snapshot.hpp.
#include "machine/vcpu_snapshot.hpp"

#include <sys/ioctl.h>

#include "base/log.hpp"
#include "kvm/kvm_list.hpp"

namespace minivmm {

namespace {
// KVM_GET/SET_XSAVE by C's numbers (kvm/kvm_list.hpp says why).
constexpr unsigned long GET_XSAVE = KVM_GET_XSAVE_C;
constexpr unsigned long SET_XSAVE = KVM_SET_XSAVE_C;
static_assert(sizeof(XsaveArea) == KVM_XSAVE_SIZE);

// One state ioctl into `out` when `wanted` (what the host or the machine has).
template <class T>
Result<void> read_into(const Vcpu& vcpu, bool wanted, unsigned long request, const char* name,
                       std::optional<T>& out) {
    if (!wanted) return {};
    auto value = vcpu.get_state<T>(request, name);
    if (!value) return value.error();
    out = *value;
    return {};
}

Error missing(const char* what) {
    return Error(ErrorCode::Input,
                 fmt::format("The snapshot holds {} state, which this host's KVM cannot restore",
                             what));
}
} // namespace

Result<VcpuStateSupport> VcpuStateSupport::query(const Kvm& kvm) {
    VcpuStateSupport s;
    s.xsave = kvm.check_extension(KVM_CAP_XSAVE) > 0;
    s.xcrs = kvm.check_extension(KVM_CAP_XCRS) > 0;
    s.debugregs = kvm.check_extension(KVM_CAP_DEBUGREGS) > 0;
    s.clock = kvm.check_extension(KVM_CAP_ADJUST_CLOCK) > 0;
    auto msrs = kvm.msr_index_list();
    if (!msrs) return msrs.error();
    s.msrs = std::move(*msrs);
    return s;
}

Result<VcpuRecord> save_vcpu(const Vcpu& vcpu, const VcpuStateSupport& support, bool irqchip) {
    VcpuRecord r;
    r.index = vcpu.index();
    auto mp = vcpu.get_mp_state();
    if (!mp) return mp.error();
    r.mp_state = *mp;
    auto regs = vcpu.get_regs();
    if (!regs) return regs.error();
    r.regs = *regs;
    auto sregs = vcpu.get_sregs();
    if (!sregs) return sregs.error();
    r.sregs = *sregs;
    auto fpu = vcpu.get_state<kvm_fpu>(KVM_GET_FPU, "KVM_GET_FPU");
    if (!fpu) return fpu.error();
    r.fpu = *fpu;
    MINIVMM_TRY(read_into(vcpu, support.xsave, GET_XSAVE, "KVM_GET_XSAVE", r.xsave));
    MINIVMM_TRY(read_into(vcpu, support.xcrs, KVM_GET_XCRS, "KVM_GET_XCRS", r.xcrs));
    MINIVMM_TRY(read_into(vcpu, support.debugregs, KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS",
                          r.debugregs));
    MINIVMM_TRY(read_into(vcpu, irqchip, KVM_GET_LAPIC, "KVM_GET_LAPIC", r.lapic));
    // One at a time: KVM lists MSRs the guest's CPUID may not have (it refuses to read those).
    std::vector<uint32_t> skipped;
    for (uint32_t index : support.msrs) {
        auto msr = vcpu.get_msrs({index});
        if (msr) r.msrs.push_back((*msr)[0]);
        else skipped.push_back(index);
    }
    if (!skipped.empty())
        log(LogLevel::Info, "vcpu{}: {} MSRs of KVM's list not readable for this guest, not saved",
            vcpu.index(), skipped.size());
    auto events = vcpu.get_vcpu_events();
    if (!events) return events.error();
    r.events = *events;
    return r;
}

Result<void> restore_vcpu(Vcpu& vcpu, const VcpuRecord& r, const VcpuStateSupport& support) {
    if (r.xsave && !support.xsave) return missing("XSAVE");
    if (r.xcrs && !support.xcrs) return missing("XCR");
    if (r.debugregs && !support.debugregs) return missing("debug register");
    MINIVMM_TRY(vcpu.set_mp_state(r.mp_state));
    MINIVMM_TRY(vcpu.set_regs(r.regs));
    MINIVMM_TRY(vcpu.set_sregs(r.sregs));
    if (r.xsave) MINIVMM_TRY(vcpu.set_state(SET_XSAVE, *r.xsave, "KVM_SET_XSAVE"));
    else MINIVMM_TRY(vcpu.set_fpu(r.fpu));
    if (r.xcrs) MINIVMM_TRY(vcpu.set_state(KVM_SET_XCRS, *r.xcrs, "KVM_SET_XCRS"));
    if (r.debugregs) MINIVMM_TRY(vcpu.set_state(KVM_SET_DEBUGREGS, *r.debugregs, "KVM_SET_DEBUGREGS"));
    if (r.lapic) MINIVMM_TRY(vcpu.set_lapic(*r.lapic));
    for (const kvm_msr_entry& msr : r.msrs) {
        if (vcpu.set_msrs({msr})) continue;
        // KVM reads some MSRs it will not take back for this guest's CPUID (seen on a PVM host:
        // 0x4b564d06, MSR_KVM_POLL_CONTROL, at its reset value 1). Harmless only when the new
        // vCPU already holds the saved value; anything else is wrong state, never skipped.
        auto now = vcpu.get_msrs({msr.index});
        if (now && (*now)[0].data == msr.data) {
            log(LogLevel::Info, "vcpu{}: KVM does not take MSR {:#x}; it already holds the "
                "saved value", vcpu.index(), msr.index);
            continue;
        }
        return Error(ErrorCode::Input, fmt::format("vcpu{}: KVM refused MSR {:#x} = {:#x} of the "
                                                   "snapshot", vcpu.index(), msr.index, msr.data));
    }
    return vcpu.set_state(KVM_SET_VCPU_EVENTS, r.events, "KVM_SET_VCPU_EVENTS");
}

} // namespace minivmm
