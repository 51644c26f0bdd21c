// Machine: a whole VM. Machine::create() is the one recipe that builds it, in boot order;
// run() starts the vCPU threads, waits for the first ending (guest, fault, signal, timeout),
// stops every thread and returns how it ended.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <asm/bootparam.h>

#include "acpi/dsdt.hpp"
#include "base/event_fd.hpp"
#include "base/host_pagemap.hpp"
#include "base/event_loop.hpp"
#include "boot/symbols.hpp"
#include "bus/bus.hpp"
#include "kvm/kvm.hpp"
#include "kvm/vm.hpp"
#include "legacy/i8042.hpp"
#include "legacy/serial.hpp"
#include "machine/address_explainer.hpp"
#include "machine/config.hpp"
#include "machine/control_channel.hpp"
#include "machine/exit_stats.hpp"
#include "machine/machine_plan.hpp"
#include "machine/memory_map.hpp"
#include "machine/outcome.hpp"
#include "machine/serial_console.hpp"
#include "machine/vcpu_loop.hpp"
#include "machine/vcpu_snapshot.hpp"
#include "machine/vm_control.hpp"
#include "memory/guest_memory.hpp"
#include "memory/layout.hpp"
#include "snapshot/snapshot_state.hpp"
#include "virtio/mmio_transport.hpp"
#include "virtio/virtio_core.hpp"
#include "virtio/virtio_device.hpp"
#include "machine/loop_event_sources.hpp"

namespace minivmm {

// CLOCK_MONOTONIC in nanoseconds.
int64_t monotonic_ns();

class Machine {
public:
    static Result<std::unique_ptr<Machine>> create(const MachineConfig& config);
    // --dump-dtb: checks the inputs as create() does (step 1, the taps excepted), writes the
    // device tree of the machine the config describes to config.dump_dtb, and stops. Never
    // opens /dev/kvm or a tap.
    static Result<void> dump_device_tree(const MachineConfig& config);

    // Runs the VM to its end. SIGINT and SIGTERM must be blocked in the calling thread (main
    // does it before create()) so they are received here through a signalfd.
    Result<Outcome> run();
    // Merged exit statistics of all vCPUs (after run()).
    const ExitStats& stats() const { return stats_; }
    const GuestMemory& memory() const { return memory_; }
    // Where other threads post commands for the main loop (run()); valid from create() on.
    ControlChannel& control_channel() { return *channel_; }
    // Whether the VM is paused now (Machine::pause done, not yet resumed); from any thread.
    bool paused() const { return paused_.load(); }

    Machine(const Machine&) = delete;
    Machine& operator=(const Machine&) = delete;

private:
    enum class EntryMode { Protected32, Long64 };

    Machine(const MachineConfig& config, GuestMemory memory, VmControl* control,
            std::unique_ptr<EventLoop> loop)
        : config_(config), memory_(std::move(memory)), control_(control), loop_(std::move(loop)) {}
    static Result<std::unique_ptr<Machine>> prepare(const MachineConfig& config,
                                                    const SnapshotState* restore);
    Result<void> add_legacy_devices();
    Result<void> add_serial();
    Result<void> add_power_devices();
    // machine_virtio.cpp: the plan's devices prepared (step 1), their host ends opened,
    // realised (step 3), and told the run is over.
    Result<void> prepare_devices();
    Result<void> open_device_hosts();
    Result<void> add_virtio_devices();
    Result<void> add_virtio_device(size_t slot);
    void devices_at_exit();
    Result<void> load_demo();
    // machine_runner.cpp: the command runner (-- CMD): its archive (step 1), the pvpanic
    // port (every guest) and the init's started port, the kernel's command line.
    Result<void> prepare_runner();
    Result<void> add_runner_ports();
    std::string kernel_cmdline() const;
    Result<void> check_runner_kernel(std::span<const uint8_t> kernel_file) const;
    // Whether the host's root is shared as the guest's (-- CMD without --initrd).
    bool root_shared() const;
    bool init_started() const { return init_started_ns_.load(std::memory_order_acquire) != 0; }
    // machine_memory.cpp: the address explainer (every VM: ctl translate), its port (demos),
    // and the memory map (--show-memory).
    Result<void> add_explain_port();
    std::vector<MemoryMapRegion> memory_layout() const;
    void report_memory() const;
    // machine_boot.cpp: the kernel and initrd (step 1) and the guest's description (step 4).
    Result<void> load_kernel();
    Result<void> load_bzimage_kernel(std::span<const uint8_t> file);
    Result<void> load_pvh_kernel(std::span<const uint8_t> file);
    Result<void> load_initrd(uint64_t initrd_addr_max, GuestAddress kernel_end);
    Result<void> describe_guest();
    Result<std::vector<uint8_t>> device_tree() const;
    Result<void> add_vcpus();
    Result<void> set_entry_state(Vcpu& vcpu);
    Result<void> load_symbols(std::span<const uint8_t> kernel_file);
    // state_report.cpp: what every vCPU and device is doing, `seconds` into the run.
    std::string state_report(std::vector<std::thread>& threads, double seconds);
    // machine_pause.cpp, on the main loop while run() waits: one command of the control
    // channel; pause parks every vCPU (kicked out of KVM_RUN) and then pauses every device,
    // resume does the reverse and has every queue looked at again.
    Reply execute(const Command& command);
    Reply pause();
    Reply resume();
    // machine_snapshot.cpp: paused only, the state and memory files (vmm/snapshot); and
    // machine_restore.cpp: the files' state put back into a machine built from their config.
    Reply snapshot(const SnapshotPaths& paths);
    // machine_translate.cpp: the VM paused (if it was not), the walk of a GVA on one vCPU.
    Reply translate(const TranslateRequest& request);
    Result<SnapshotState> capture_snapshot() const;
    // The devices outside the virtio slots whose DeviceState a snapshot holds, by name.
    std::vector<std::pair<const char*, DeviceState*>> legacy_state_devices() const {
        return {{"serial", serial_.get()}, {"i8042", i8042_.get()}};
    }
    Result<void> apply_snapshot(const SnapshotState& state);
    std::string device_label(const std::string& name) const;
    Result<void> check_cpuid(const std::vector<kvm_cpuid_entry2>& saved) const;
    // --restore: `config` given the snapshot's machine (size, vCPUs, guest, devices); its
    // memory file as the RAM, checked against the size.
    static Result<SnapshotState> restore_config(MachineConfig& config);
    static Result<void> apply_overrides(std::vector<DeviceOption>& devices,
                                        const std::vector<DeviceOverride>& overrides);
    static Result<GuestMemory> restore_memory(const RestoreConfig& from, uint64_t size);

    MachineConfig config_;
    MachinePlan plan_;         // made in step 1 from config_; the guest's description uses it
    std::optional<Kvm> kvm_;   // set once the user's inputs are checked (create(), step 2)
    std::optional<Vm> vm_;
    GuestMemory memory_;
    // This process's page map for snapshots (which skip the RAM's untouched pages): opened in
    // run() before the seccomp filters, with an API socket only.
    std::optional<HostPagemap> snapshot_pagemap_;
    std::unique_ptr<VmControl> control_;
    std::unique_ptr<ControlChannel> channel_;   // commands for the main loop (run())
    std::vector<std::thread> vcpu_threads_;    // run(): one per vcpus_ entry
    std::atomic<bool> paused_{false};   // Machine::pause() done; written by the main loop only
    std::unique_ptr<EventLoop> loop_;   // the device thread's loop (ioeventfds, tap, stdin)
    // Each virtio device's wake-ups on loop_: declared after it and before the buses (which
    // own the devices that point at them), so they go after the devices and before the loop.
    std::vector<std::unique_ptr<LoopEventSources>> event_sources_;
    Bus pio_{"port-I/O"};
    Bus mmio_{"MMIO"};
    std::unique_ptr<SerialConsole> console_;   // COM1's host end; destroyed before the buses
    std::vector<std::unique_ptr<VcpuLoop>> vcpus_;
    // One per planned virtio device, in slot order: made in step 1, realised in step 3.
    std::vector<std::unique_ptr<DeviceInstance>> devices_;
    std::vector<std::unique_ptr<EventFd>> notify_fds_;   // queue-notify ioeventfds (loop_)
    EntryMode entry_mode_ = EntryMode::Protected32;
    GuestAddress entry_{layout::DEMO_LOAD_ADDR};   // where vCPU 0 starts
    uint64_t entry_arg_ = 0;   // RSI (bzImage: the zero page) or EBX (PVH: hvm_start_info)
    std::optional<setup_header> setup_header_;     // bzImage: the image's setup header
    uint64_t cmdline_capacity_ = layout::CMDLINE_MAX - 1;   // longest command line, without NUL
    uint64_t initrd_addr_ = 0;                     // initrd_size_ 0: none
    uint64_t initrd_size_ = 0;
    uint64_t kernel_end_ = 0;                      // the kernel's footprint ends here (from 1 MiB)
    std::unique_ptr<AddressExplainer> explainer_;  // the explain port's walk, ctl translate
    ExitStats stats_;
    std::vector<uint8_t> runner_archive_;          // -- CMD: appended to the initrd
    std::atomic<int64_t> run_start_ns_{0};         // CLOCK_MONOTONIC at run()'s start
    std::atomic<int64_t> init_started_ns_{0};      // when the runner's init said so (0: not yet)
    // Every virtio device's core with its report label ("virtio-blk0 at 0x..., irq 5 (vm.img)").
    struct VirtioSlot {
        std::string label;
        std::shared_ptr<virtio::VirtioCore> core;
    };
    std::vector<VirtioSlot> virtio_slots_;
    std::shared_ptr<Serial16550> serial_;   // COM1, for the state report
    std::shared_ptr<I8042> i8042_;          // its state goes into snapshots
    VcpuStateSupport state_support_;        // what KVM saves and restores here (create())
    std::vector<kvm_cpuid_entry2> cpuid0_;  // vCPU 0's CPUID (snapshots record and check it)
    SymbolTable symbols_;                   // names for RIP in state reports (may be empty)
};

} // namespace minivmm
