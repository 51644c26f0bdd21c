// SnapshotState: everything a snapshot's state file holds (the guest's RAM is the other file),
// as plain data. snapshot_codec.hpp writes it to bytes and reads it back from untrusted bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <linux/kvm.h>

namespace minivmm {

// What is needed to build the same machine again: its size and its devices, each as the
// command-line option that made it (the backing paths inside the text: "vm.img,ro").
struct MachineRecord {
    uint64_t mem_size = 0;          // bytes of RAM: the memory file's size
    uint32_t cpus = 0;
    bool irqchip = false;           // the in-kernel PIC/IOAPIC/LAPIC and PIT
    std::string demo;               // the demo guest, or empty for a kernel
    std::string kernel;             // the kernel's path (informative: not loaded on restore)
    struct Device {
        std::string option;         // "disk", "net", ... (the registry's option names)
        std::string text;           // the option's value as given
    };
    std::vector<Device> devices;
};

// KVM_GET_XSAVE's legacy 4 KiB area (kvm_xsave without its flexible tail, which std::optional
// cannot hold).
struct XsaveArea {
    uint32_t region[1024];
};
static_assert(sizeof(XsaveArea) == sizeof(kvm_xsave::region));

// One vCPU as KVM reports it (KVM_GET_* ioctls); the optional parts are what the host or the
// machine may lack (no XSAVE, no in-kernel LAPIC).
struct VcpuRecord {
    uint32_t index = 0;
    uint32_t mp_state = KVM_MP_STATE_RUNNABLE;
    kvm_regs regs{};
    kvm_sregs sregs{};
    kvm_fpu fpu{};
    std::optional<XsaveArea> xsave;
    std::optional<kvm_xcrs> xcrs;
    std::vector<kvm_msr_entry> msrs;   // every MSR of KVM_GET_MSR_INDEX_LIST that KVM read
    std::optional<kvm_lapic_state> lapic;
    kvm_vcpu_events events{};
    std::optional<kvm_debugregs> debugregs;
};

// The in-kernel interrupt controllers and timer (machines with the irqchip).
struct IrqchipRecord {
    kvm_irqchip pic_master{};
    kvm_irqchip pic_slave{};
    kvm_irqchip ioapic{};
    kvm_pit_state2 pit{};
};

// One device's DeviceState bytes, named as the machine names it ("virtio-blk0", "i8042").
struct DeviceRecord {
    std::string name;
    uint16_t version = 0;
    std::vector<uint8_t> bytes;
};

struct SnapshotState {
    MachineRecord machine;
    // vCPU 0's CPUID as the machine gave it: a restore on a host whose KVM would give another
    // (another CPU model, another KVM) is refused.
    std::vector<kvm_cpuid_entry2> cpuid;
    std::vector<VcpuRecord> vcpus;           // machine.cpus of them, index i at i
    std::optional<IrqchipRecord> irqchip;    // exactly when machine.irqchip
    std::optional<kvm_clock_data> clock;     // KVM_GET_CLOCK, where the host has it
    std::vector<DeviceRecord> devices;
};

} // namespace minivmm
