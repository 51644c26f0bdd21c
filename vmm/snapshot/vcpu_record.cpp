// The VCPU section of the state file: one vCPU's KVM state (snapshot_codec.hpp has the layout).
#include <fmt/format.h>

#include "snapshot/snapshot_codec.hpp"
#include "snapshot/snapshot_fields.hpp"

namespace minivmm {

namespace {
template <class T> void put_optional(StateWriter& w, const std::optional<T>& v) {
    w.u8(v ? 1 : 0);
    if (v) put_struct(w, *v);
}

// Guest-controlled (a forged file): a flag, then exactly sizeof(T) bytes when it is set.
template <class T> bool get_optional(StateReader& r, std::optional<T>& out) {
    bool present = false;
    if (!get_flag(r, present)) return false;
    if (!present) return true;
    T value{};
    if (!get_struct(r, value)) return false;
    out = value;
    return true;
}

// The events KVM_SET_VCPU_EVENTS takes as flags and vectors: each flag 0 or 1, vectors in range.
bool events_in_range(const kvm_vcpu_events& e) {
    const uint8_t flags[] = {e.exception.injected, e.exception.has_error_code, e.exception.pending,
                             e.interrupt.injected, e.interrupt.soft,         e.nmi.injected,
                             e.nmi.pending,        e.nmi.masked,             e.smi.smm,
                             e.smi.pending,        e.smi.smm_inside_nmi,     e.smi.latched_init,
                             e.triple_fault.pending, e.exception_has_payload};
    for (uint8_t f : flags)
        if (f > 1) return false;
    return e.exception.nr < 32;
}
} // namespace

void write_vcpu(StateWriter& w, const VcpuRecord& v) {
    w.u32(v.index);
    w.u32(v.mp_state);
    put_struct(w, v.regs);
    put_struct(w, v.sregs);
    put_struct(w, v.fpu);
    put_optional(w, v.xsave);
    put_optional(w, v.xcrs);
    w.u32(static_cast<uint32_t>(v.msrs.size()));
    for (const kvm_msr_entry& m : v.msrs) {
        w.u32(m.index);
        w.u64(m.data);
    }
    put_optional(w, v.lapic);
    put_struct(w, v.events);
    put_optional(w, v.debugregs);
}

Result<VcpuRecord> read_vcpu(StateReader& r, uint32_t expected_index) {
    auto bad = [expected_index](const char* what) {
        return Error(ErrorCode::Input,
                     fmt::format("Snapshot state: vcpu{}: {} is malformed", expected_index, what));
    };
    VcpuRecord v;
    v.index = r.u32();
    if (v.index != expected_index) return bad("the index");
    v.mp_state = r.u32();
    if (r.failed() || v.mp_state > KVM_MP_STATE_SUSPENDED) return bad("the MP state");
    if (!get_struct(r, v.regs)) return bad("the registers");
    if (!get_struct(r, v.sregs)) return bad("the special registers");
    if (!get_struct(r, v.fpu)) return bad("the FPU state");
    if (!get_optional(r, v.xsave)) return bad("the XSAVE area");
    if (!get_optional(r, v.xcrs)) return bad("the XCRs");
    if (v.xcrs && v.xcrs->nr_xcrs > KVM_MAX_XCRS) return bad("the XCR count");
    const uint32_t nmsrs = r.u32();
    // Checked before anything is allocated: a forged count cannot ask for memory.
    if (r.failed() || nmsrs > SNAPSHOT_MAX_MSRS || nmsrs > r.remaining() / 12)
        return bad("the MSR count");
    v.msrs.resize(nmsrs);
    for (kvm_msr_entry& m : v.msrs) {
        m.index = r.u32();
        m.data = r.u64();
    }
    if (!get_optional(r, v.lapic)) return bad("the local APIC");
    if (!get_struct(r, v.events) || !events_in_range(v.events)) return bad("the pending events");
    if (!get_optional(r, v.debugregs)) return bad("the debug registers");
    if (r.failed()) return bad("the section");
    return v;
}

} // namespace minivmm
