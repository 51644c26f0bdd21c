#include "machine/machine.hpp"

#include <csignal>
#include <ctime>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <thread>
#include <unistd.h>

#include "base/file.hpp"
#include "base/log.hpp"
#include "demos.hpp"
#include "kvm/cpuid.hpp"
#include "machine/kvm_irq_line.hpp"
#include "machine/entry_state.hpp"
#include "memory/layout.hpp"
#include "sandbox/seccomp_filter.hpp"

namespace minivmm {

// 1. Guest RAM, and the guest image in it: the demo, or the kernel's segments and the initrd.
//    Everything the user gave is checked here, before /dev/kvm is opened, so a bad option or
//    file is reported as such on any host.
//    Restoring (`restore`): the RAM is the snapshot's memory file, already holding the guest.
Result<std::unique_ptr<Machine>> Machine::prepare(const MachineConfig& config,
                                                  const SnapshotState* restore) {
    uint64_t default_mem = config.kernel ? layout::KERNEL_DEFAULT_RAM : layout::DEMO_DEFAULT_RAM;
    uint64_t mem_size = config.mem_size ? config.mem_size : default_mem;
    auto memory = restore ? restore_memory(*config.restore, mem_size)
                          : GuestMemory::create_x86(mem_size);
    // A snapshot's memory file that does not fit is refused as the state file's faults are.
    if (!memory) return restore ? memory.error() : Error(ErrorCode::Usage, memory.error().message());
    auto plan = plan_machine(config);
    if (!plan) return plan.error();
    auto done = EventFd::create();
    if (!done) return done.error();
    auto loop = EventLoop::create();
    if (!loop) return loop.error();
    std::unique_ptr<Machine> m(new Machine(config, std::move(*memory),
                                           new VmControl(std::move(*done)), std::move(*loop)));
    m->plan_ = std::move(*plan);
    auto channel = ControlChannel::create();
    if (!channel) return channel.error();
    m->channel_ = std::move(*channel);
    MINIVMM_TRY(m->prepare_devices());
    if (restore) return m;
    if (!config.command.empty()) MINIVMM_TRY(m->prepare_runner());
    MINIVMM_TRY(config.kernel ? m->load_kernel() : m->load_demo());
    return m;
}

Result<std::unique_ptr<Machine>> Machine::create(const MachineConfig& given) {
    MachineConfig config = given;
    const int64_t start_ns = monotonic_ns();
    std::optional<SnapshotState> restore;
    if (config.restore) {
        auto state = restore_config(config);
        if (!state) return state.error();
        restore = std::move(*state);
    }
    auto prepared = prepare(config, restore ? &*restore : nullptr);
    if (!prepared) return prepared.error();
    std::unique_ptr<Machine> m = std::move(*prepared);
    // The devices' host ends too, e.g. taps (not in prepare(): --dump-dtb describes a --net
    // card without its tap).
    MINIVMM_TRY(m->open_device_hosts());
    // COM1's host end, still before /dev/kvm (an unwritable --serial file is an input error),
    // but not in prepare(): --dump-dtb must not switch the terminal to raw mode.
    auto console = SerialConsole::open(config.serial);
    if (!console) return console.error();
    m->console_ = std::move(*console);

    // 2. The host: /dev/kvm, a VM, the RAM registered as memslots, and the in-kernel
    //    PIC/IOAPIC/LAPIC and PIT if the plan asks for them (see plan_machine).
    auto kvm = Kvm::open(config.kvm_path);
    if (!kvm) return kvm.error();
    auto vm = Vm::create(*kvm);
    if (!vm) return vm.error();
    auto support = VcpuStateSupport::query(*kvm);
    if (!support) return support.error();
    m->state_support_ = std::move(*support);
    m->kvm_.emplace(std::move(*kvm));
    m->vm_.emplace(std::move(*vm));
    MINIVMM_TRY(m->vm_->map_memory(m->memory_));
    if (m->plan_.irqchip) MINIVMM_TRY(m->vm_->create_irqchip_and_pit());

    // 3. Devices on the buses: the legacy ones, then the plan's virtio devices realised.
    MINIVMM_TRY(m->add_legacy_devices());
    MINIVMM_TRY(m->add_virtio_devices());

    // 4. The guest's description of all of it, the virtio devices from the plan: command
    //    line, ACPI tables, boot_params or hvm_start_info. 5. The vCPUs in their entry state.
    if (config.kernel && !restore) MINIVMM_TRY(m->describe_guest());
    MINIVMM_TRY(m->add_vcpus());
    if (restore) {
        MINIVMM_TRY(m->apply_snapshot(*restore));
        log(LogLevel::Info, "snapshot {} restored in {:.1f} ms (the machine built, its state "
            "applied; {} MiB of RAM mapped from {})", config.restore->state,
            static_cast<double>(monotonic_ns() - start_ns) / 1e6, m->memory_.total_size() >> 20,
            config.restore->memory);
        // Run from the start: the main loop takes the command once run() polls.
        if (config.restore->resume) (void)m->channel_->post(Command::Resume);
    }
    m->report_memory();
    return m;
}

Result<void> Machine::load_demo() {
    const Demo* demo = find_demo(config_.demo);
    if (demo == nullptr)
        return Error(ErrorCode::Usage, fmt::format("Unknown demo '{}' (see --help)", config_.demo));
    if (demo->image.size() > layout::DEMO_MAX_SIZE)
        return Error(ErrorCode::Host, fmt::format("Demo {} is too large", demo->name));
    auto r = memory_.write(GuestAddress(layout::DEMO_LOAD_ADDR), demo->image);
    if (!r) return r.error().with_context("Failed to load the demo");
    return {};
}

// Every vCPU gets KVM's supported CPUID with its own topology (APIC ID = index), and kernels
// the boot MSRs and FPU state. vCPU 0 starts at the entry; the others wait for INIT/SIPI.
Result<void> Machine::add_vcpus() {
    auto cpuid = supported_cpuid(*kvm_);
    if (!cpuid) return cpuid.error();
    const bool tsc_deadline = kvm_->check_extension(KVM_CAP_TSC_DEADLINE_TIMER) > 0;
    const bool kvmclock_ctrl = kvm_->check_extension(KVM_CAP_KVMCLOCK_CTRL) > 0;
    for (uint32_t i = 0; i < config_.cpus; ++i) {
        auto vcpu = vm_->create_vcpu(*kvm_, i);
        if (!vcpu) return vcpu.error();
        std::vector<kvm_cpuid_entry2> entries = *cpuid;
        fixup_cpuid(entries, i, config_.cpus, tsc_deadline);
        MINIVMM_TRY(vcpu->set_cpuid(entries));
        if (i == 0) cpuid0_ = entries;
        if (config_.kernel) {
            // One at a time: a host whose KVM refuses one of them (an MSR it does not emulate,
            // e.g. the MTRRs under PVM) still boots, the MSR at its reset value; the log says
            // so at --log-level info. A failing ioctl is an error.
            for (const kvm_msr_entry& msr : boot_msrs()) {
                auto r = vcpu->set_msrs({msr});
                if (!r && r.error().sys_errno() != 0) return r.error();
                if (!r)
                    log(LogLevel::Info, "vCPU {}: KVM does not take boot MSR {:#x}; left at its "
                        "reset value", i, msr.index);
            }
            MINIVMM_TRY(vcpu->set_fpu(boot_fpu()));
            auto lapic = vcpu->get_lapic();   // kernels have the in-kernel irqchip
            if (!lapic) return lapic.error();
            set_lint_virtual_wire(*lapic);
            MINIVMM_TRY(vcpu->set_lapic(*lapic));
        }
        if (i == 0) {
            MINIVMM_TRY(set_entry_state(*vcpu));
        } else {
            MINIVMM_TRY(vcpu->set_mp_state(KVM_MP_STATE_UNINITIALIZED));
        }
        vcpus_.push_back(std::make_unique<VcpuLoop>(std::move(*vcpu), pio_, mmio_, *control_,
                                                    LoopOptions{config_.trace_exits, config_.stats,
                                                                plan_.irqchip, kvmclock_ctrl}));
    }
    return {};
}

// vCPU 0's entry state. Demos and PVH kernels (the PVH boot ABI): 32-bit protected mode, flat
// segments, paging off, EBX = hvm_start_info. bzImage (64-bit boot protocol): long mode on
// minivmm's identity map, RSI = the zero page. Interrupts are off in both (RFLAGS.IF clear).
Result<void> Machine::set_entry_state(Vcpu& vcpu) {
    auto sregs = vcpu.get_sregs();
    if (!sregs) return sregs.error();
    kvm_regs regs{};
    regs.rip = entry_.value();
    regs.rflags = 0x2;   // bit 1 is always set
    if (entry_mode_ == EntryMode::Long64) {
        firmware::LongModeTables tables{GuestAddress(layout::PML4_ADDR),
                                        GuestAddress(layout::BOOT_GDT_ADDR),
                                        static_cast<uint16_t>(layout::BOOT_GDT_ENTRIES * 8 - 1)};
        set_long_mode_sregs(*sregs, tables);
        regs.rsi = entry_arg_;
    } else {
        set_protected_mode_sregs(*sregs);
        regs.rbx = entry_arg_;
    }
    MINIVMM_TRY(vcpu.set_sregs(*sregs));
    return vcpu.set_regs(regs);
}

Result<Outcome> Machine::run() {
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGUSR2);   // not a stop: print the state report and go on
    int sfd = ::signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) return sys_error(ErrorCode::Host, "signalfd");
    UniqueFd signal_fd(sfd);

    // --seccomp: every thread confines itself before its loop (vmm/sandbox); the main thread
    // last, once it has started the others (a filter is inherited by the threads created after).
    if (config_.api_socket) snapshot_pagemap_.emplace(HostPagemap::open());
    std::optional<sandbox::ThreadFilters> filters;
    if (config_.seccomp) {
        auto built = sandbox::ThreadFilters::build(
            config_.shares.empty() ? sandbox::Sharing::None : sandbox::Sharing::HostDirectories,
            config_.api_socket ? sandbox::Snapshots::Yes : sandbox::Snapshots::No);
        if (!built) return built.error();
        filters.emplace(std::move(*built));
    }
    auto confine = [this](const sandbox::SeccompFilter* filter) {
        if (filter == nullptr) return true;
        auto loaded = filter->load();
        if (!loaded) control_->finish({Ending::HostError, 0, loaded.error().message()});
        return loaded.has_value();
    };
    const sandbox::ThreadFilters* f = filters ? &*filters : nullptr;

    timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    run_start_ns_.store(monotonic_ns(), std::memory_order_relaxed);
    VcpuLoop::install_kick_handler();
    std::thread io_thread([this, f, &confine] {
        if (confine(f ? &f->io : nullptr)) loop_->run();
    });
    // Named for top -H, perf and the benchmarks (they tell vCPU time from device time); set
    // from this thread, before its own filter, since naming another thread writes to /proc.
    pthread_setname_np(io_thread.native_handle(), "io");
    std::vector<std::thread>& threads = vcpu_threads_;
    for (auto& v : vcpus_) {
        threads.emplace_back([&v, f, &confine] {
            if (confine(f ? &f->vcpu : nullptr)) v->run();
        });
        pthread_setname_np(threads.back().native_handle(),
                           fmt::format("vcpu{}", threads.size() - 1).c_str());
    }
    confine(f ? &f->main : nullptr);

    auto seconds_since_start = [&start] {
        timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return static_cast<double>(now.tv_sec - start.tv_sec) +
               static_cast<double>(now.tv_nsec - start.tv_nsec) / 1e9;
    };

    // Wait for the first ending: the VM itself, a stop signal, or the timeout.
    pollfd fds[3] = {{control_->done_fd(), POLLIN, 0},
                     {signal_fd.get(), POLLIN, 0},
                     {channel_->fd(), POLLIN, 0}};
    const int64_t deadline_ms = static_cast<int64_t>(config_.timeout_seconds) * 1000;
    // The runner's --boot-timeout counts until its init writes the started port.
    const int64_t boot_deadline_ms =
        config_.command.empty() ? 0 : static_cast<int64_t>(config_.boot_timeout_seconds) * 1000;
    auto elapsed_ms = [&] { return static_cast<int64_t>(seconds_since_start() * 1000); };
    while (!control_->finished()) {
        // What is left of --timeout and --boot-timeout (SIGUSR2 wakes the wait early).
        int timeout_ms = -1;
        if (deadline_ms > 0)
            timeout_ms = static_cast<int>(std::max<int64_t>(0, deadline_ms - elapsed_ms()));
        const bool boot_watch = boot_deadline_ms > 0 && !init_started();
        if (boot_watch) {
            int left = static_cast<int>(std::max<int64_t>(0, boot_deadline_ms - elapsed_ms()));
            timeout_ms = timeout_ms < 0 ? left : std::min(timeout_ms, left);
        }
        int n = ::poll(fds, 3, timeout_ms);
        if (n == 0) {
            if (boot_watch && !init_started() && elapsed_ms() >= boot_deadline_ms)
                control_->finish({Ending::BootTimeout, 0,
                                  fmt::format("boot timeout: the guest's init did not start "
                                              "within {} s", config_.boot_timeout_seconds)});
            else if (deadline_ms > 0 && elapsed_ms() >= deadline_ms)
                control_->finish({Ending::Timeout, 0, fmt::format("timeout: stopped after {} s",
                                                                  config_.timeout_seconds)});
        } else if (n > 0 && (fds[2].revents & POLLIN)) {
            channel_->run_pending([this](const Command& command) { return execute(command); });
        } else if (n > 0 && (fds[1].revents & POLLIN)) {
            signalfd_siginfo info{};
            if (::read(signal_fd.get(), &info, sizeof info) != sizeof info) continue;
            if (info.ssi_signo == SIGUSR2) {
                std::string report = "minivmm: " + state_report(threads, seconds_since_start());
                std::fputs(report.c_str(), stderr);
                continue;
            }
            bool term = info.ssi_signo == SIGTERM;
            control_->finish({term ? Ending::Terminated : Ending::Interrupted, 0,
                              term ? "stopped by SIGTERM" : "stopped by SIGINT"});
        }
    }
    channel_->close();   // nothing more runs on this loop: later commands are refused
    // A stop from outside (the guest did not end by itself): say where everything was, while
    // the vCPU threads still answer.
    const Ending ending = control_->outcome().ending;
    if (ending == Ending::Timeout || ending == Ending::Terminated ||
        ending == Ending::Interrupted || ending == Ending::BootTimeout)
        control_->add_to_report("\n" + state_report(threads, seconds_since_start()));

    // Stop: every vCPU leaves KVM_RUN, sees the finished flag and, released, ends its thread.
    for (size_t i = 0; i < vcpus_.size(); ++i) {
        vcpus_[i]->release();
        vcpus_[i]->kick(threads[i].native_handle());
    }
    for (auto& t : threads) t.join();
    loop_->stop();
    io_thread.join();
    console_->flush_at_exit();   // the guest's last bytes before anything minivmm prints now
    devices_at_exit();
    timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    for (auto& v : vcpus_) stats_.merge(v->stats());
    if (config_.stats) {
        double secs = static_cast<double>(end.tv_sec - start.tv_sec) +
                      static_cast<double>(end.tv_nsec - start.tv_nsec) / 1e9;
        std::fputs(stats_.format(secs).c_str(), stderr);
        std::fprintf(stderr, "  unhandled accesses: %llu port-I/O, %llu MMIO\n",
                     static_cast<unsigned long long>(pio_.unhandled_count()),
                     static_cast<unsigned long long>(mmio_.unhandled_count()));
        for (const auto& device : devices_)   // the I/O thread has stopped: counters are final
            std::fputs(device->stats().c_str(), stderr);
    }
    console_->report(config_.stats);
    return control_->outcome();
}

} // namespace minivmm
