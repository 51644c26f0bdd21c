// Machine: a snapshot's files back into a machine (--restore, PUT /snapshot/load). create()
// takes the machine's shape from the state file (restore_config), maps the memory file
// copy-on-write as the RAM (prepare), builds the same devices and vCPUs as a boot would, and
// then puts the saved state over them (apply_snapshot). The machine starts paused.
#include <algorithm>
#include <sys/stat.h>

#include "base/file.hpp"
#include "base/log.hpp"
#include "machine/machine.hpp"
#include "machine/vcpu_snapshot.hpp"
#include "snapshot/snapshot_codec.hpp"

namespace minivmm {

Result<SnapshotState> Machine::restore_config(MachineConfig& config) {
    const RestoreConfig& from = *config.restore;
    auto bytes = read_file(from.state, "snapshot state file", SNAPSHOT_MAX_FILE);
    if (!bytes) return bytes.error();
    auto state = decode_snapshot(*bytes);
    if (!state) return state.error().with_context(from.state);
    const MachineRecord& m = state->machine;
    config.mem_size = m.mem_size;
    config.cpus = m.cpus;
    config.demo = m.demo;
    config.kernel = m.kernel.empty() ? std::nullopt : std::optional<std::string>(m.kernel);
    config.initrd.reset();
    config.devices.clear();
    for (const MachineRecord::Device& d : m.devices)
        MINIVMM_TRY(add_device_option(config.devices, d.option, d.text));
    MINIVMM_TRY(apply_overrides(config.devices, from.overrides));
    return state;
}

// Each override replaces the text of the snapshot's device it names (by option and position
// among that option's devices), merged by its type; then every text is parsed again, so the
// overridden devices are checked against each other as a command line's are.
Result<void> Machine::apply_overrides(std::vector<DeviceOption>& devices,
                                      const std::vector<DeviceOverride>& overrides) {
    std::vector<std::string> texts;
    for (const DeviceOption& d : devices) texts.push_back(d.text);
    std::vector<bool> replaced(devices.size(), false);
    for (const DeviceOverride& o : overrides) {
        const DeviceType* type = find_device_type(o.option);
        if (type == nullptr || type->restore_override == nullptr)
            return Error(ErrorCode::Usage, fmt::format("--{} cannot be given with --restore (only "
                                                       "--disk and --net override the snapshot's "
                                                       "devices)", o.option));
        auto given = type->parse(o.text, {});
        if (!given) return given.error();
        size_t k = 0, seen = 0;
        for (; k < devices.size(); ++k)
            if (devices[k].type == type && seen++ == o.index) break;
        if (k == devices.size())
            return Error(ErrorCode::Input,
                         fmt::format("Restore override --{} {} is for the snapshot's --{} "
                                     "device #{}, and it has {}", o.option, o.text, o.option,
                                     o.index + 1, seen));
        if (replaced[k])
            return Error(ErrorCode::Usage, fmt::format("Restore override --{} {}: device #{} "
                                                       "is overridden twice", o.option, o.text,
                                                       o.index + 1));
        auto text = type->restore_override(*devices[k].args, **given);
        if (!text) return text.error();
        log(LogLevel::Info, "restore: {} #{} on {} (the snapshot's: {})", o.option, o.index + 1,
            *text, texts[k]);
        texts[k] = *text;
        replaced[k] = true;
    }
    std::vector<DeviceOption> merged;
    for (size_t k = 0; k < devices.size(); ++k)
        MINIVMM_TRY(add_device_option(merged, devices[k].type->option, texts[k]));
    devices = std::move(merged);
    return {};
}

Result<GuestMemory> Machine::restore_memory(const RestoreConfig& from, uint64_t size) {
    auto file = open_regular_file(from.memory, "snapshot memory file");
    if (!file) return file.error();
    if (file->size != size)
        return Error(ErrorCode::Input,
                     fmt::format("Snapshot memory file {} is {} bytes, the snapshot's RAM is {}",
                                 from.memory, file->size, size));
    auto memory = GuestMemory::create_x86(size, file->fd.get());
    if (!memory) return memory.error().with_context(from.memory);
    return memory;   // the mappings keep the file; its descriptor closes here
}

namespace {
bool same_entry(const kvm_cpuid_entry2& a, const kvm_cpuid_entry2& b) {
    return a.function == b.function && a.index == b.index && a.flags == b.flags &&
           a.eax == b.eax && a.ebx == b.ebx && a.ecx == b.ecx && a.edx == b.edx;
}
} // namespace

// The CPU this host's KVM gives the new machine must be the snapshot's: a guest that found
// features at boot must find them still (one line naming the first difference).
Result<void> Machine::check_cpuid(const std::vector<kvm_cpuid_entry2>& saved) const {
    const size_t n = std::max(saved.size(), cpuid0_.size());
    for (size_t i = 0; i < n; ++i) {
        if (i < saved.size() && i < cpuid0_.size() && same_entry(saved[i], cpuid0_[i])) continue;
        const kvm_cpuid_entry2& e = i < saved.size() ? saved[i] : cpuid0_[i];
        return Error(ErrorCode::Input,
                     fmt::format("The snapshot was taken on another CPU: CPUID leaf {:#x} "
                                 "subleaf {} differs from what this host's KVM gives", e.function,
                                 e.index));
    }
    return {};
}

// "virtio-blk0 (disk.img)": a device of the file named with its host end, for errors.
std::string Machine::device_label(const std::string& name) const {
    for (const VirtioDevicePlan& p : plan_.virtio)
        if (p.name == name && !p.host_end.empty()) return fmt::format("{} ({})", name, p.host_end);
    return name;
}

Result<void> Machine::apply_snapshot(const SnapshotState& s) {
    if (s.machine.irqchip != plan_.irqchip)
        return Error(ErrorCode::Input, "Snapshot state: its irqchip does not match the machine's");
    MINIVMM_TRY(check_cpuid(s.cpuid));
    for (size_t i = 0; i < vcpus_.size(); ++i)
        MINIVMM_TRY(restore_vcpu(vcpus_[i]->vcpu(), s.vcpus[i], state_support_));
    if (s.irqchip) {
        MINIVMM_TRY(vm_->set_state(KVM_SET_IRQCHIP, s.irqchip->pic_master, "KVM_SET_IRQCHIP"));
        MINIVMM_TRY(vm_->set_state(KVM_SET_IRQCHIP, s.irqchip->pic_slave, "KVM_SET_IRQCHIP"));
        MINIVMM_TRY(vm_->set_state(KVM_SET_IRQCHIP, s.irqchip->ioapic, "KVM_SET_IRQCHIP"));
        MINIVMM_TRY(vm_->set_state(KVM_SET_PIT2, s.irqchip->pit, "KVM_SET_PIT2"));
    }
    if (s.clock) {
        if (!state_support_.clock)
            return Error(ErrorCode::Input, "The snapshot holds kvmclock state, which this host's "
                                           "KVM cannot restore (no KVM_CAP_ADJUST_CLOCK)");
        // The guest's clock goes on from the saved value: no flags, so the time the snapshot
        // spent on disk is not added (KVM_CLOCK_REALTIME would add it).
        kvm_clock_data clock{};
        clock.clock = s.clock->clock;
        MINIVMM_TRY(vm_->set_state(KVM_SET_CLOCK, clock, "KVM_SET_CLOCK"));
    }
    // Every device of the file is this machine's, and every device with state is in the file.
    size_t found = 0;
    for (const DeviceRecord& d : s.devices) {
        Result<void> r = Error(ErrorCode::Input, "Snapshot state: unknown device " + d.name);
        for (auto [name, device] : legacy_state_devices()) {
            if (d.name != name) continue;
            StateReader in(d.bytes);
            r = device->restore_state(in, d.version);
        }
        for (size_t i = 0; i < plan_.virtio.size(); ++i) {
            if (plan_.virtio[i].name != d.name) continue;
            virtio_slots_[i].core->pause();
            r = d.version == 1 ? virtio_slots_[i].core->restore_state(d.bytes)
                               : Error(ErrorCode::Input, "Snapshot state: device version");
        }
        if (!r) return r.error().with_context(device_label(d.name));
        ++found;
    }
    if (found != plan_.virtio.size() + legacy_state_devices().size())
        return Error(ErrorCode::Input, "Snapshot state: a device's state is missing");
    // Paused, as pause() leaves a machine: resume() starts the cores and the vCPUs.
    for (const VirtioSlot& slot : virtio_slots_) slot.core->pause();
    for (auto& v : vcpus_) v->request_pause();
    paused_ = true;
    return {};
}

} // namespace minivmm
