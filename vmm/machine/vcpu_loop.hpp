// VcpuLoop: the body of one vCPU thread. KVM_RUN, dispatch each exit to the port-I/O or MMIO
// bus, repeat until the VM finishes. Stopping: VmControl::finish() then kick(), which sets
// immediate_exit and signals the thread so KVM_RUN returns at once (KVM API doc, §KVM_RUN).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <pthread.h>

#include "bus/bus.hpp"
#include "kvm/vcpu.hpp"
#include "machine/exit_stats.hpp"
#include "machine/exit_trace.hpp"
#include "machine/vcpu_state.hpp"
#include "machine/vm_control.hpp"

namespace minivmm {

struct LoopOptions {
    bool trace_exits = false;
    bool stats = false;
    bool irqchip = false;   // the in-kernel LAPIC exists (its state goes into hang reports)
    bool kvmclock_ctrl = false;   // KVM_CAP_KVMCLOCK_CTRL: tell the guest about pauses
};

class VcpuLoop {
public:
    VcpuLoop(Vcpu vcpu, const Bus& pio, const Bus& mmio, VmControl& control, LoopOptions options);

    // Installs the (empty) kick signal handler; call once before starting vCPU threads.
    static void install_kick_handler();
    // The thread body; returns when the VM has finished and release() was called. Between the
    // two it only answers state requests: a vCPU that saw the end first must still be there for
    // the stop's state report.
    void run() noexcept;
    // From another thread, once no more state requests will come: lets run() return.
    void release();
    // From another thread: make `thread` (running run()) leave KVM_RUN now.
    void kick(pthread_t thread);
    // From another thread (hang reports): what the vCPU is doing now. Kicks `thread` out of
    // KVM_RUN, has it read its own state (a vCPU's ioctls wait for its KVM_RUN to return) and
    // waits up to `wait` for the answer; nothing if it did not come (the thread is busy in an
    // exit handler). A running guest goes on afterwards.
    std::optional<Result<VcpuState>> request_state(pthread_t thread, std::chrono::milliseconds wait);

    // Pausing (Machine::pause), from another thread. request_pause(), then kick(): the vCPU
    // leaves KVM_RUN, tells the guest it is paused (KVM_KVMCLOCK_CTRL when `kvmclock_ctrl`)
    // and parks, answering state requests, until request_resume() or the VM's end.
    // wait_parked() waits up to `wait` for it to be parked (or ended); false if it was not.
    void request_pause();
    bool wait_parked(std::chrono::milliseconds wait);
    void request_resume();
    bool paused() const { return pause_wanted_.load(std::memory_order_acquire); }
    // From another thread, the vCPU parked (paused): runs `task` on the vCPU's own thread,
    // where its ioctls belong (KVM_GET_SREGS, KVM_TRANSLATE), and waits up to `wait` for it to
    // have run. False at once if the vCPU is not parked, or after `wait` if the task has not
    // run (it may still run later: it must own what it writes to).
    bool run_parked(std::function<void(const Vcpu&)> task, std::chrono::milliseconds wait);

    Vcpu& vcpu() { return vcpu_; }
    // The vCPU whose run() is on the calling thread (nullptr elsewhere): a port handler that
    // needs the vCPU that wrote it (the explain port reads its registers) finds it here.
    static const Vcpu* current_vcpu();
    const ExitStats& stats() const { return stats_; }

private:
    // Handles one exit; returns false when the loop must stop.
    bool handle(const VcpuExit& exit, const std::string*& device);
    void dispatch_io(const VcpuExit& exit, const std::string*& device);
    void dispatch_mmio(const VcpuExit& exit, const std::string*& device);
    void fatal(Ending ending, const VcpuExit& exit);
    void answer_state_request();
    void park();
    void hold_paused();

    Vcpu vcpu_;
    const Bus& pio_;
    const Bus& mmio_;
    VmControl& control_;
    LoopOptions options_;
    ExitStats stats_;
    ExitHistory history_;   // the last exits, printed with a fatal ending

    // What the thread is doing, for hang reports: written by this vCPU's thread, read by any.
    std::atomic<bool> in_kvm_run_{false};
    std::atomic<uint64_t> exits_{0};
    std::atomic<uint32_t> last_exit_reason_{0};
    std::atomic<uint64_t> last_exit_ms_;   // CLOCK_MONOTONIC_COARSE, ms
    // State requests: `state_mutex_` guards the three fields below; requests are numbered so
    // a late answer to a request that timed out is never taken for a newer one.
    std::atomic<bool> state_wanted_{false};
    std::mutex state_mutex_;
    std::condition_variable state_cv_;
    uint64_t state_request_ = 0;
    uint64_t state_answered_ = 0;
    std::optional<Result<VcpuState>> state_;
    bool released_ = false;
    // Pausing: the request is written under state_mutex_ (read without it at each loop turn);
    // `parked_` (guarded by state_mutex_) says the thread is in hold_paused().
    std::atomic<bool> pause_wanted_{false};
    bool parked_ = false;
    // run_parked(): tasks for the parked thread, numbered as state requests are (state_mutex_).
    std::deque<std::function<void(const Vcpu&)>> tasks_;
    uint64_t tasks_posted_ = 0;
    uint64_t tasks_done_ = 0;
};

} // namespace minivmm
