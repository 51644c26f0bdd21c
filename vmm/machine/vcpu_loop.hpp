// VcpuLoop: the body of one vCPU thread. KVM_RUN, dispatch each exit to the port-I/O or MMIO
// bus, repeat until the VM finishes. Stopping: VmControl::finish() then kick(), which sets
// immediate_exit and signals the thread so KVM_RUN returns at once (KVM API doc, §KVM_RUN).
#pragma once

#include <atomic>
#include <pthread.h>

#include "bus/bus.hpp"
#include "kvm/vcpu.hpp"
#include "machine/exit_stats.hpp"
#include "machine/vm_control.hpp"

namespace minivmm {

struct LoopOptions {
    bool trace_exits = false;
    bool stats = false;
};

class VcpuLoop {
public:
    VcpuLoop(Vcpu vcpu, const Bus& pio, const Bus& mmio, VmControl& control, LoopOptions options)
        : vcpu_(std::move(vcpu)), pio_(pio), mmio_(mmio), control_(control), options_(options) {}

    // Installs the (empty) kick signal handler; call once before starting vCPU threads.
    static void install_kick_handler();
    // The thread body; returns when the VM has finished.
    void run() noexcept;
    // From another thread: make `thread` (running run()) leave KVM_RUN now.
    void kick(pthread_t thread);

    Vcpu& vcpu() { return vcpu_; }
    const ExitStats& stats() const { return stats_; }

private:
    // Handles one exit; returns false when the loop must stop.
    bool handle(const VcpuExit& exit, const std::string*& device);
    void dispatch_io(const VcpuExit& exit, const std::string*& device);
    void dispatch_mmio(const VcpuExit& exit, const std::string*& device);
    void fatal(Ending ending, const VcpuExit& exit);

    Vcpu vcpu_;
    const Bus& pio_;
    const Bus& mmio_;
    VmControl& control_;
    LoopOptions options_;
    ExitStats stats_;
};

} // namespace minivmm
