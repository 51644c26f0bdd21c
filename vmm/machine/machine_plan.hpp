// MachinePlan: what the machine's devices need from the host and where the guest finds them,
// computed from the configuration alone, before /dev/kvm is opened (Machine step 1). The
// guest's description (command line, DSDT, MP table, device tree, --dump-dtb) is written from
// it, and the realise step (step 3) creates the bus entries, irqfds and ioeventfds it lists.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "acpi/dsdt.hpp"
#include "base/result.hpp"
#include "machine/config.hpp"

namespace minivmm {

// A queue notification the realise step turns into an ioeventfd: a `size`-byte write of
// `datamatch` at `address`.
struct NotifyPlan {
    uint64_t address = 0;
    uint32_t size = 4;
    uint64_t datamatch = 0;
};

// One virtio-mmio device.
struct VirtioDevicePlan {
    const DeviceType* type = nullptr;
    std::shared_ptr<const DeviceArgs> args;   // its option, as parsed
    size_t index = 0;        // among its type: the position of its option (--disk, --net, ...)
    std::string name;        // "virtio-blk0", "virtio-net1"
    std::string host_end;    // the image path, the tap name, ...
    uint64_t base = 0;       // register window
    uint64_t size = 0;
    uint32_t gsi = 0;        // IOAPIC pin of its interrupt (edge-triggered)
    std::vector<NotifyPlan> notify;   // one per queue, in queue order

    acpi::VirtioMmioDeviceInfo mmio_info() const { return {base, size, gsi}; }
    // "virtio-blk0 at 0xd0001000, irq 5 (vm.img)": how reports name the device.
    std::string label() const;
};

struct MachinePlan {
    std::vector<VirtioDevicePlan> virtio;   // in slot order: by type (disks, nets, ...), then option
    bool irqchip = false;   // the in-kernel PIC/IOAPIC/LAPIC and PIT are created

    // The windows and interrupts the guest's description lists, in slot order.
    std::vector<acpi::VirtioMmioDeviceInfo> virtio_mmio() const;
};

// Kernels get the irqchip, and so do demos given virtio devices (their interrupts need the
// IOAPIC); plain demos run without it, so that their HLT exits to minivmm. Device i gets
// virtio-mmio slot i of layout.hpp. ErrorCode::Usage for more devices than slots.
Result<MachinePlan> plan_machine(const MachineConfig& config);

} // namespace minivmm
