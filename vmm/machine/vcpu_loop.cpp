#include "machine/vcpu_loop.hpp"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <string>

#include "base/log.hpp"
#include "machine/exit_trace.hpp"

namespace minivmm {

namespace {
constexpr int KICK_SIGNAL = SIGUSR1;
constexpr std::string_view UNHANDLED = "unhandled";

uint64_t now_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

void kick_handler(int) {}

thread_local const Vcpu* this_thread_vcpu = nullptr;

// Cheap enough to take at every exit (a few ns through the vDSO); ms resolution is plenty for
// "the last exit was 12.3 s ago".
uint64_t coarse_now_ms() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1'000'000;
}

std::string internal_error_details(const VcpuExit& exit) {
    std::string s = fmt::format("suberror {}", exit.suberror);
    if (exit.suberror == KVM_INTERNAL_ERROR_EMULATION) s += " (instruction emulation failed)";
    if (exit.insn_size > 0) {
        s += ", instruction bytes:";
        for (uint8_t i = 0; i < exit.insn_size; ++i) s += fmt::format(" {:02x}", exit.insn_bytes[i]);
    }
    if (!exit.internal_data.empty()) {
        s += ", data:";
        for (uint64_t d : exit.internal_data) s += fmt::format(" {:#x}", d);
    }
    return s;
}

// On AMD SVM, KVM reinitialises the vCPU when it intercepts the shutdown of a triple fault
// (the VMCB is undefined after one), so the registers minivmm reads are the reset state, not
// those of the fault; Intel VMX keeps them. Said so, lest the reader look for a bug at 0xfff0.
constexpr const char* RESET_STATE_NOTE =
    "\n  (the registers below are the vCPU's reset state, not the state at the fault: KVM on "
    "AMD SVM resets a vCPU after a triple fault; --trace-exits shows the exits that led to it)";

// Whether `vcpu` sits at the reset vector in real mode.
bool registers_are_reset_state(const Vcpu& vcpu) {
    auto regs = vcpu.get_regs();
    auto sregs = vcpu.get_sregs();
    return regs && sregs && regs->rip == 0xfff0 && sregs->cs.selector == 0xf000 &&
           (sregs->cr0 & 1) == 0;
}

} // namespace

VcpuLoop::VcpuLoop(Vcpu vcpu, const Bus& pio, const Bus& mmio, VmControl& control,
                   LoopOptions options)
    : vcpu_(std::move(vcpu)), pio_(pio), mmio_(mmio), control_(control), options_(options),
      last_exit_ms_(coarse_now_ms()) {}

void VcpuLoop::install_kick_handler() {
    struct sigaction sa {};
    sa.sa_handler = kick_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;   // no SA_RESTART: KVM_RUN must return EINTR
    sigaction(KICK_SIGNAL, &sa, nullptr);
}

void VcpuLoop::kick(pthread_t thread) {
    // immediate_exit covers the window where the thread is about to enter KVM_RUN; the signal
    // covers a thread already inside it.
    __atomic_store_n(&vcpu_.run_page()->immediate_exit, 1, __ATOMIC_RELEASE);
    pthread_kill(thread, KICK_SIGNAL);
}

const Vcpu* VcpuLoop::current_vcpu() { return this_thread_vcpu; }

void VcpuLoop::run() noexcept {
    this_thread_vcpu = &vcpu_;
    last_exit_ms_.store(coarse_now_ms(), std::memory_order_relaxed);
    while (!control_.finished()) {
        if (state_wanted_.load(std::memory_order_acquire)) answer_state_request();
        if (pause_wanted_.load(std::memory_order_acquire)) {
            hold_paused();
            continue;   // the VM may have ended meanwhile
        }
        uint64_t t0 = options_.stats ? now_ns() : 0;
        in_kvm_run_.store(true, std::memory_order_relaxed);
        auto exit = vcpu_.run();
        in_kvm_run_.store(false, std::memory_order_relaxed);
        uint64_t t1 = options_.stats ? now_ns() : 0;
        if (!exit) {
            control_.finish({Ending::HostError, 0, exit.error().message()});
            break;
        }
        if (exit->reason == ExitReason::Interrupted) continue;   // a kick: re-check the flags
        exits_.fetch_add(1, std::memory_order_relaxed);
        last_exit_reason_.store(exit->raw_reason, std::memory_order_relaxed);
        uint64_t exit_ms = coarse_now_ms();
        last_exit_ms_.store(exit_ms, std::memory_order_relaxed);
        const std::string* device = nullptr;
        bool go_on = handle(*exit, device);
        if (go_on) history_.record(*exit, device, exit_ms);   // fatal() recorded an ending one
        if (options_.trace_exits)
            std::fprintf(stderr, "%s\n", format_exit_trace(vcpu_.index(), *exit, device).c_str());
        if (options_.stats) {
            bool has_device = exit->reason == ExitReason::Io || exit->reason == ExitReason::Mmio;
            std::string_view dev_name;
            if (has_device) dev_name = device ? std::string_view(*device) : UNHANDLED;
            stats_.record(exit_reason_name(exit->raw_reason), dev_name, t1 - t0, now_ns() - t1);
        }
        if (!go_on) break;
    }
    park();
}

void VcpuLoop::park() {
    std::unique_lock lock(state_mutex_);
    for (;;) {
        if (state_request_ > state_answered_) {
            lock.unlock();
            answer_state_request();   // the final state: this vCPU no longer runs
            lock.lock();
        } else if (released_) {
            return;
        } else {
            state_cv_.wait(lock);
        }
    }
}

void VcpuLoop::request_pause() {
    std::lock_guard lock(state_mutex_);
    pause_wanted_.store(true, std::memory_order_seq_cst);
}

void VcpuLoop::request_resume() {
    {
        std::lock_guard lock(state_mutex_);
        pause_wanted_.store(false, std::memory_order_seq_cst);
    }
    state_cv_.notify_all();
}

bool VcpuLoop::wait_parked(std::chrono::milliseconds wait) {
    std::unique_lock lock(state_mutex_);
    return state_cv_.wait_for(lock, wait, [&] { return parked_ || control_.finished(); });
}

// Outside KVM_RUN, on the vCPU's thread. The kvmclock flag makes the guest's watchdogs skip
// the time spent here (kvmtool does the same on pause). The VM's stop sets the finished flag
// and then calls release(), which takes state_mutex_ and wakes us, so the wait cannot miss it.
void VcpuLoop::hold_paused() {
    if (options_.kvmclock_ctrl) {
        auto r = vcpu_.kvmclock_ctrl();
        if (!r && r.error().sys_errno() != EINVAL)   // EINVAL: the guest has no kvmclock
            log(LogLevel::Warn, "{}", r.error().message());
    }
    std::unique_lock lock(state_mutex_);
    parked_ = true;
    state_cv_.notify_all();
    for (;;) {
        if (state_request_ > state_answered_) {
            lock.unlock();
            answer_state_request();
            lock.lock();
        } else if (!tasks_.empty()) {
            auto task = std::move(tasks_.front());
            tasks_.pop_front();
            lock.unlock();
            task(vcpu_);
            lock.lock();
            ++tasks_done_;
            state_cv_.notify_all();
        } else if (!pause_wanted_.load(std::memory_order_relaxed) || control_.finished() ||
                   released_) {
            break;
        } else {
            state_cv_.wait(lock);
        }
    }
    parked_ = false;
    // The pause's kick set immediate_exit; a stop that came meanwhile keeps it.
    if (!control_.finished()) __atomic_store_n(&vcpu_.run_page()->immediate_exit, 0, __ATOMIC_RELEASE);
}

bool VcpuLoop::run_parked(std::function<void(const Vcpu&)> task, std::chrono::milliseconds wait) {
    std::unique_lock lock(state_mutex_);
    if (!parked_) return false;
    tasks_.push_back(std::move(task));
    const uint64_t id = ++tasks_posted_;
    state_cv_.notify_all();
    return state_cv_.wait_for(lock, wait, [&] { return tasks_done_ >= id; });
}

void VcpuLoop::release() {
    {
        std::lock_guard lock(state_mutex_);
        released_ = true;
    }
    state_cv_.notify_all();
}

std::optional<Result<VcpuState>> VcpuLoop::request_state(pthread_t thread,
                                                         std::chrono::milliseconds wait) {
    VcpuActivity activity;
    activity.in_kvm_run = in_kvm_run_.load(std::memory_order_relaxed);
    activity.exits = exits_.load(std::memory_order_relaxed);
    activity.last_exit_reason = last_exit_reason_.load(std::memory_order_relaxed);
    uint64_t last = last_exit_ms_.load(std::memory_order_relaxed);
    uint64_t now = coarse_now_ms();
    activity.since_last_exit_ms = now > last ? now - last : 0;

    std::unique_lock lock(state_mutex_);
    uint64_t id = ++state_request_;
    state_wanted_.store(true, std::memory_order_release);
    lock.unlock();
    state_cv_.notify_all();   // a vCPU parked after the end answers from park()
    kick(thread);
    lock.lock();
    if (!state_cv_.wait_for(lock, wait, [&] { return state_answered_ >= id; }))
        return std::nullopt;
    std::optional<Result<VcpuState>> answer = std::move(state_);
    state_.reset();
    if (answer && *answer) (*answer)->activity = activity;
    return answer;
}

// On the vCPU's thread, outside KVM_RUN: read the state, hand it over, and let KVM_RUN run
// again unless the VM is stopping. The stop sets the finished flag before immediate_exit, and
// run() re-checks the flag after this, so clearing immediate_exit here never loses a stop.
void VcpuLoop::answer_state_request() {
    auto state = capture_vcpu_state(vcpu_, options_.irqchip);
    {
        std::lock_guard lock(state_mutex_);
        state_wanted_.store(false, std::memory_order_relaxed);
        state_.emplace(std::move(state));
        state_answered_ = state_request_;
    }
    state_cv_.notify_all();
    if (!control_.finished()) __atomic_store_n(&vcpu_.run_page()->immediate_exit, 0, __ATOMIC_RELEASE);
}

bool VcpuLoop::handle(const VcpuExit& exit, const std::string*& device) {
    switch (exit.reason) {
    case ExitReason::Io: dispatch_io(exit, device); return true;
    case ExitReason::Mmio: dispatch_mmio(exit, device); return true;
    case ExitReason::Hlt:
        // No in-kernel irqchip: nothing can wake a halted vCPU but us; resume it (RIP is
        // already past the HLT), as a teaching machine that shows the exit.
        return true;
    case ExitReason::Shutdown: fatal(Ending::TripleFault, exit); return false;
    case ExitReason::InternalError: fatal(Ending::InternalError, exit); return false;
    case ExitReason::FailEntry: fatal(Ending::FailEntry, exit); return false;
    default: fatal(Ending::UnhandledExit, exit); return false;
    }
}

void VcpuLoop::dispatch_io(const VcpuExit& exit, const std::string*& device) {
    // String I/O repeats the access `count` times over consecutive data.
    for (uint32_t i = 0; i < exit.count; ++i) {
        uint8_t* data = exit.data + static_cast<size_t>(i) * exit.size;
        Bus::Dispatch d = exit.is_write ? pio_.write(exit.address, {data, exit.size})
                                        : pio_.read(exit.address, {data, exit.size});
        device = d.device_name;
    }
}

void VcpuLoop::dispatch_mmio(const VcpuExit& exit, const std::string*& device) {
    uint32_t size = exit.size > 8 ? 8 : exit.size;   // kvm_run.mmio.data holds 8 bytes
    Bus::Dispatch d = exit.is_write ? mmio_.write(exit.address, {exit.data, size})
                                    : mmio_.read(exit.address, {exit.data, size});
    device = d.device_name;
}

void VcpuLoop::fatal(Ending ending, const VcpuExit& exit) {
    std::string what;
    switch (ending) {
    case Ending::TripleFault:
        what = "triple fault (KVM_EXIT_SHUTDOWN)";
        if (registers_are_reset_state(vcpu_)) what += RESET_STATE_NOTE;
        break;
    case Ending::InternalError:
        what = "KVM internal error: " + internal_error_details(exit);
        break;
    case Ending::FailEntry:
        what = fmt::format("KVM failed to enter the guest, hardware reason {:#x}", exit.fail_reason);
        break;
    default:
        what = fmt::format("unhandled exit {} ({})", exit_reason_name(exit.raw_reason),
                           exit.raw_reason);
        break;
    }
    // This exit is not in the history yet (run() records the others after their handler).
    uint64_t now = coarse_now_ms();
    history_.record(exit, nullptr, now);
    std::string history = history_.format(vcpu_.index(), now);
    control_.finish({ending, 0,
                     fmt::format("vcpu{}: {}\n{}{}{}", vcpu_.index(), what, vcpu_.dump_registers(),
                                 history.empty() ? "" : "\n", history)});
}

} // namespace minivmm
