// Machine: a snapshot to files (the control channel's Snapshot command, on the main loop). Only
// while paused: the vCPUs are parked outside KVM_RUN, so this thread reads their state, and the
// devices are quiet (their disks already flushed by pause()). The memory file is the RAM's
// regions one after the other, zero pages left as holes (memory/ram_file.hpp: pages never
// touched are skipped unread, by the page map opened in run()); the state file is
// vmm/snapshot's.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.hpp"
#include "base/unique_fd.hpp"
#include "machine/machine.hpp"
#include "machine/vcpu_snapshot.hpp"
#include "memory/ram_file.hpp"
#include "sandbox/seccomp_rules.hpp"
#include "snapshot/snapshot_codec.hpp"

namespace minivmm {

namespace {

Result<UniqueFd> create_file(const std::string& path, const char* what) {
    // Exactly these flags: the main thread's seccomp filter lets no other openat through.
    constexpr int FLAGS = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
    static_assert(FLAGS == sandbox::SNAPSHOT_CREATE_FLAGS);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return sys_error(ErrorCode::Host, fmt::format("Failed to create {} {}", what, path));
    return UniqueFd(fd);
}

bool same_file(const std::string& a, const std::string& b) {
    struct stat sa{}, sb{};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

} // namespace

Result<SnapshotState> Machine::capture_snapshot() const {
    if (!config_.command.empty() || !config_.shares.empty())
        return Error(ErrorCode::Usage, "snapshots of the command runner or of --share "
                                       "directories are not supported");
    for (const DeviceOption& d : config_.devices)
        if (auto why = d.args->snapshot_refusal()) return Error(ErrorCode::Usage, *why);
    SnapshotState s;
    s.machine.mem_size = memory_.total_size();
    s.machine.cpus = config_.cpus;
    s.machine.irqchip = plan_.irqchip;
    s.cpuid = cpuid0_;
    if (config_.kernel) s.machine.kernel = *config_.kernel;
    else s.machine.demo = config_.demo;
    for (const DeviceOption& d : config_.devices)
        s.machine.devices.push_back({std::string(d.type->option), d.text});
    for (const auto& v : vcpus_) {
        auto record = save_vcpu(v->vcpu(), state_support_, plan_.irqchip);
        if (!record) return record.error();
        s.vcpus.push_back(std::move(*record));
    }
    if (plan_.irqchip) {
        auto chip = [this](uint32_t id) {
            kvm_irqchip in{};
            in.chip_id = id;
            return vm_->get_state(KVM_GET_IRQCHIP, "KVM_GET_IRQCHIP", in);
        };
        auto master = chip(KVM_IRQCHIP_PIC_MASTER);
        auto slave = chip(KVM_IRQCHIP_PIC_SLAVE);
        auto ioapic = chip(KVM_IRQCHIP_IOAPIC);
        auto pit = vm_->get_state<kvm_pit_state2>(KVM_GET_PIT2, "KVM_GET_PIT2");
        if (!master || !slave || !ioapic || !pit)
            return !master ? master.error() : !slave ? slave.error() : !ioapic ? ioapic.error()
                                                                              : pit.error();
        s.irqchip = IrqchipRecord{*master, *slave, *ioapic, *pit};
    }
    if (state_support_.clock) {
        auto clock = vm_->get_state<kvm_clock_data>(KVM_GET_CLOCK, "KVM_GET_CLOCK");
        if (!clock) return clock.error();
        s.clock = *clock;
    }
    for (size_t i = 0; i < virtio_slots_.size(); ++i) {
        auto bytes = virtio_slots_[i].core->save_state();
        if (!bytes) return bytes.error().with_context(plan_.virtio[i].name);
        s.devices.push_back({plan_.virtio[i].name, 1, std::move(*bytes)});
    }
    for (auto [name, device] : legacy_state_devices()) {
        StateWriter out;
        device->save_state(out);
        s.devices.push_back({name, device->state_version(), out.take()});
    }
    return s;
}

Reply Machine::snapshot(const SnapshotPaths& paths) {
    if (!paused_) return {false, "snapshot refused: the VM is not paused (pause it first)"};
    // A restored VM's RAM is its memory file mapped copy-on-write: truncating that file to
    // write into it would pull the guest's unread pages from under it (SIGBUS).
    if (config_.restore && (same_file(paths.memory, config_.restore->memory) ||
                            same_file(paths.state, config_.restore->memory)))
        return {false, fmt::format("snapshot refused: {} is the memory file this VM was restored "
                                   "from; write to another path", config_.restore->memory)};
    if (paths.state == paths.memory)
        return {false, "snapshot refused: the state and memory files must be two files"};
    const int64_t start = monotonic_ns();
    auto state = capture_snapshot();
    if (!state) return {false, "snapshot failed: " + state.error().message()};
    const std::vector<uint8_t> bytes = encode_snapshot(*state);
    auto fd = create_file(paths.state, "state file");
    Result<void> written = fd ? write_all_at(fd->get(), bytes.data(), bytes.size(), 0, paths.state)
                              : Result<void>(fd.error());
    if (!written) return {false, "snapshot failed: " + written.error().message()};
    auto mem_fd = create_file(paths.memory, "memory file");
    auto ram = mem_fd ? write_ram_file(memory_, mem_fd->get(),
                                       snapshot_pagemap_ ? &*snapshot_pagemap_ : nullptr, paths.memory)
                      : Result<RamFileStats>(mem_fd.error());
    if (!ram) return {false, "snapshot failed: " + ram.error().message()};
    return {true, fmt::format("snapshot written in {:.1f} ms: {} ({} bytes), {} ({} MiB, {} of "
                              "{} pages written, {} never touched and not read)",
                              static_cast<double>(monotonic_ns() - start) / 1e6, paths.state,
                              bytes.size(), paths.memory, memory_.total_size() >> 20,
                              ram->written, ram->pages, ram->skipped)};
}

} // namespace minivmm
