// Machine's virtio devices, whatever their type (the device registry): each planned device is
// prepared in step 1 (before /dev/kvm: a disk image is opened and checked), its host end
// opened in create() (a tap), realised in step 3 (a virtio-mmio device over a VirtioCore), and
// told the run is over once every thread has stopped (a disk is flushed).
#include <linux/virtio_mmio.h>
#include <sys/epoll.h>

#include "base/log.hpp"
#include "machine/kvm_irq_line.hpp"
#include "machine/machine.hpp"
#include "memory/layout.hpp"
#include "virtio/mmio_transport.hpp"

namespace minivmm {

Result<void> Machine::prepare_devices() {
    for (const VirtioDevicePlan& d : plan_.virtio) {
        auto instance = d.type->prepare(*d.args, d.index);
        if (!instance) return instance.error();
        devices_.push_back(std::move(*instance));
    }
    return {};
}

Result<void> Machine::open_device_hosts() {
    for (auto& device : devices_) MINIVMM_TRY(device->open_host());
    return {};
}

// After every thread has stopped, so nothing touches the devices any more.
void Machine::devices_at_exit() {
    for (auto& device : devices_) device->at_exit();
}

// Step 3: every virtio device of the plan, in slot order, realised on the machine.
Result<void> Machine::add_virtio_devices() {
    for (size_t slot = 0; slot < plan_.virtio.size(); ++slot) MINIVMM_TRY(add_virtio_device(slot));
    return {};
}

// One planned virtio-mmio device realised: its event sources on the I/O thread's loop (their
// wake-ups reach the device through its core: backend_ready, under the core's lock), its core,
// its register window on the MMIO bus, its interrupt through an irqfd, and one ioeventfd per
// planned notification (QueueNotify, datamatch = the queue index), so a notification reaches
// the I/O thread without an exit to user space.
Result<void> Machine::add_virtio_device(size_t slot) {
    const VirtioDevicePlan& plan = plan_.virtio[slot];
    // The sources exist before the device (which keeps a pointer to them) and the core after
    // it (the core owns the device): their handler finds the core through this weak slot.
    auto target = std::make_shared<std::weak_ptr<virtio::VirtioCore>>();
    auto sources = LoopEventSources::create(*loop_, [target] {
        if (auto core = target->lock()) core->backend_ready();
    });
    if (!sources) return sources.error().with_context(plan.name);
    EventSources& events = *event_sources_.emplace_back(std::move(*sources));
    auto device = devices_[slot]->realise(events);
    if (!device) return device.error().with_context(plan.name);
    MINIVMM_ASSERT((*device)->num_queues() == plan.notify.size());
    auto line = KvmIrqLine::create(*vm_, plan.gsi);
    if (!line) return line.error().with_context(plan.name);
    auto core = std::make_shared<virtio::VirtioCore>(std::move(*device), memory_,
                                                     std::move(*line), "virtio-mmio");
    *target = core;
    MINIVMM_TRY(mmio_.insert({plan.base, plan.size}, std::make_shared<virtio::MmioTransport>(core),
                             plan.name));
    for (size_t q = 0; q < plan.notify.size(); ++q) {
        const NotifyPlan& n = plan.notify[q];
        auto fd = EventFd::create();
        if (!fd) return fd.error();
        MINIVMM_TRY(vm_->register_ioeventfd(fd->fd(), n.address, n.size, n.datamatch));
        const EventFd* notify =
            notify_fds_.emplace_back(std::make_unique<EventFd>(std::move(*fd))).get();
        MINIVMM_TRY(loop_->add(notify->fd(), EPOLLIN, [core, notify, q](uint32_t) {
            notify->consume();
            // The device yielded with work left: come back after the loop's other sources.
            if (core->notify(q)) notify->signal();
        }));
    }
    virtio_slots_.push_back({plan.label(), core});
    return {};
}

} // namespace minivmm
