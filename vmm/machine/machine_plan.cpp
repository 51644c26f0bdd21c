// The machine's plan; see machine_plan.hpp.
#include "machine/machine_plan.hpp"

#include <fmt/format.h>
#include <linux/virtio_mmio.h>

#include "memory/layout.hpp"
#include "p9/p9_registration.hpp"

namespace minivmm {

namespace {

// The next virtio-mmio slot: its window, its GSI, and the QueueNotify register with one
// datamatch per queue (the queue index the driver writes there).
Result<void> add_virtio(MachinePlan& plan, const DeviceType& type,
                        const std::shared_ptr<const DeviceArgs>& args,
                        size_t index) {
    const size_t slot = plan.virtio.size();
    if (slot >= layout::VIRTIO_MMIO_MAX_DEVICES)
        return Error(ErrorCode::Usage, fmt::format("Too many virtio devices (at most {})",
                                                   layout::VIRTIO_MMIO_MAX_DEVICES));
    VirtioDevicePlan d;
    d.type = &type;
    d.args = args;
    d.index = index;
    d.name = fmt::format("{}{}", type.name, index);
    d.host_end = args->host_end();
    d.base = layout::VIRTIO_MMIO_BASE + slot * layout::VIRTIO_MMIO_SLOT_SIZE;
    d.size = layout::VIRTIO_MMIO_SLOT_SIZE;
    d.gsi = layout::VIRTIO_MMIO_IRQS[slot];
    for (size_t q = 0; q < type.num_queues; ++q)
        d.notify.push_back({d.base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, q});
    plan.virtio.push_back(std::move(d));
    return {};
}

} // namespace

std::string VirtioDevicePlan::label() const {
    return fmt::format("{} at {:#x}, irq {} ({})", name, base, gsi, host_end);
}

std::vector<acpi::VirtioMmioDeviceInfo> MachinePlan::virtio_mmio() const {
    std::vector<acpi::VirtioMmioDeviceInfo> infos;
    for (const VirtioDevicePlan& d : virtio) infos.push_back(d.mmio_info());
    return infos;
}

Result<MachinePlan> plan_machine(const MachineConfig& config) {
    MachinePlan plan;
    auto shares = p9::share_options(config.shares);   // the shares are virtio-9p devices
    if (!shares) return shares.error();
    std::vector<DeviceOption> options = config.devices;
    options.insert(options.end(), shares->begin(), shares->end());
    for (const DeviceType* type : device_types()) {
        size_t index = 0;
        for (const DeviceOption& o : options)
            if (o.type == type) MINIVMM_TRY(add_virtio(plan, *type, o.args, index++));
    }
    plan.irqchip = config.kernel.has_value() || !plan.virtio.empty();
    return plan;
}

} // namespace minivmm
