// Vcpu: one KVM vCPU, its kvm_run page and register access. Used by exactly one thread.
#pragma once

#include <cstdint>
#include <linux/kvm.h>
#include <string>

#include "base/mapping.hpp"
#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "kvm/vcpu_exit.hpp"

namespace minivmm {

class Kvm;

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
    // Gives the guest the host's supported CPUID (KVM_GET_SUPPORTED_CPUID) as is.
    Result<void> set_supported_cpuid(const Kvm& kvm);

    // Registers and segment state on several lines, for crash reports.
    std::string dump_registers() const;

private:
    uint32_t index_;
    UniqueFd fd_;
    Mapping run_;
};

} // namespace minivmm
