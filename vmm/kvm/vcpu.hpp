// Vcpu: one KVM vCPU, its kvm_run page and register access. Used by exactly one thread.
#pragma once

#include <cstdint>
#include <linux/kvm.h>
#include <string>
#include <vector>

#include "base/mapping.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "kvm/vcpu_exit.hpp"

namespace minivmm {

class Kvm;

// KVM_GET_SUPPORTED_CPUID: the CPUID table KVM can give a guest on this host.
Result<std::vector<kvm_cpuid_entry2>> supported_cpuid(const Kvm& kvm);

class Vcpu {
public:
    Vcpu(uint32_t index, UniqueFd fd, Mapping run)
        : index_(index), fd_(std::move(fd)), run_(std::move(run)) {}

    uint32_t index() const { return index_; }
    int fd() const { return fd_.get(); }
    kvm_run* run_page() const { return reinterpret_cast<kvm_run*>(run_.data()); }

    // One KVM_RUN. Returns the decoded exit; EINTR (a kick) is the `Interrupted` exit.
    Result<VcpuExit> run();
    // Completes the pending exit: for an I/O or MMIO read, the data the guest will see.
    void complete_read(std::span<const uint8_t> data);

    Result<kvm_regs> get_regs() const;
    Result<void> set_regs(const kvm_regs& regs);
    Result<kvm_sregs> get_sregs() const;
    Result<void> set_sregs(const kvm_sregs& sregs);
    // KVM_TRANSLATE: KVM's own walk of `gva` through the vCPU's current page tables.
    Result<kvm_translation> translate(uint64_t gva) const;
    // Gives the guest the host's supported CPUID (KVM_GET_SUPPORTED_CPUID) as is.
    Result<void> set_supported_cpuid(const Kvm& kvm);
    // KVM_SET_CPUID2 with `entries` (see kvm/cpuid.hpp for the per-vCPU fix-up).
    Result<void> set_cpuid(const std::vector<kvm_cpuid_entry2>& entries);
    // KVM_SET_MP_STATE: KVM_MP_STATE_RUNNABLE, or KVM_MP_STATE_UNINITIALIZED for an AP that
    // waits for INIT/SIPI.
    Result<void> set_mp_state(uint32_t state);
    // KVM_KVMCLOCK_CTRL: tells the guest (through its kvmclock page) that the host paused this
    // vCPU, so its soft-lockup watchdog does not take the pause for a hang. EINVAL when the
    // guest has not enabled kvmclock (a bare-metal demo): nothing to tell.
    Result<void> kvmclock_ctrl();
    // KVM_GET_MP_STATE: runnable, halted, waiting for INIT/SIPI (KVM_MP_STATE_*).
    Result<uint32_t> get_mp_state() const;
    // KVM_GET_VCPU_EVENTS: pending or injected exceptions, interrupts and NMIs.
    Result<kvm_vcpu_events> get_vcpu_events() const;
    // KVM_GET_TSC_KHZ: the guest's TSC frequency.
    Result<uint32_t> get_tsc_khz() const;
    // KVM_SET_MSRS; an error unless every MSR was accepted.
    Result<void> set_msrs(const std::vector<kvm_msr_entry>& msrs);
    // KVM_GET_MSRS for `indices`; an error unless KVM read every one.
    Result<std::vector<kvm_msr_entry>> get_msrs(const std::vector<uint32_t>& indices) const;
    Result<void> set_fpu(const kvm_fpu& fpu);
    // KVM_GET_LAPIC / KVM_SET_LAPIC: the in-kernel local APIC's register page.
    Result<kvm_lapic_state> get_lapic() const;
    Result<void> set_lapic(const kvm_lapic_state& lapic);

    // The state ioctls a snapshot uses (KVM_GET_/SET_FPU, _XSAVE, _XCRS, _DEBUGREGS,
    // _VCPU_EVENTS, ...): `request` is the ioctl number for a T, `name` names it in the error.
    template <class T> Result<T> get_state(unsigned long request, const char* name) const {
        T value{};
        MINIVMM_TRY(state_ioctl(request, &value, name));
        return value;
    }
    template <class T> Result<void> set_state(unsigned long request, const T& value, const char* name) {
        T copy = value;   // KVM's SET ioctls take a pointer they do not write through
        return state_ioctl(request, &copy, name);
    }

    // Registers and segment state on several lines, for crash reports.
    std::string dump_registers() const;

private:
    Result<void> state_ioctl(unsigned long request, void* arg, const char* name) const;

    uint32_t index_;
    UniqueFd fd_;
    Mapping run_;
};

} // namespace minivmm
