// A vCPU's KVM state to and from a snapshot's VcpuRecord. Both run while the vCPU is out of
// KVM_RUN for good (its thread parked, or not started yet), so the calling thread may use it.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.hpp"
#include "kvm/kvm.hpp"
#include "kvm/vcpu.hpp"
#include "snapshot/snapshot_state.hpp"

namespace minivmm {

// What this host's KVM can save and restore beyond the basic registers.
struct VcpuStateSupport {
    bool xsave = false;       // KVM_CAP_XSAVE
    bool xcrs = false;        // KVM_CAP_XCRS
    bool debugregs = false;   // KVM_CAP_DEBUGREGS
    bool clock = false;       // KVM_CAP_ADJUST_CLOCK: KVM_GET/SET_CLOCK
    std::vector<uint32_t> msrs;   // KVM_GET_MSR_INDEX_LIST
    // Asked once at create(), before the threads' seccomp filters (which keep /dev/kvm's
    // ioctls from the main thread).
    static Result<VcpuStateSupport> query(const Kvm& kvm);
};

// Every part `support` and `irqchip` allow; MSRs of the list that KVM does not read for this
// guest are left out (one line at --log-level info names them).
Result<VcpuRecord> save_vcpu(const Vcpu& vcpu, const VcpuStateSupport& support, bool irqchip);
// KVM takes the record in Firecracker's order (MP state, registers, XSAVE/FPU, XCRs, debug
// registers, LAPIC, MSRs, events). An error names the ioctl; a part this host cannot take
// (XSAVE saved, no KVM_CAP_XSAVE here) is an error, never skipped.
Result<void> restore_vcpu(Vcpu& vcpu, const VcpuRecord& record, const VcpuStateSupport& support);

} // namespace minivmm
