// Machine's virtio devices: the --disk images and --net taps are opened and checked in step 1
// (before /dev/kvm), realised as the plan says in step 3 (virtio-mmio devices over a VirtioCore
// each), and the disks flushed at the end of run().
#include <linux/virtio_mmio.h>
#include <sys/epoll.h>

#include "base/log.hpp"
#include "block/block_device.hpp"
#include "block/file_backend.hpp"
#include "machine/kvm_irq_line.hpp"
#include "machine/machine.hpp"
#include "memory/layout.hpp"
#include "virtio/mmio_transport.hpp"

namespace minivmm {

// Opens and locks every --disk image (errors name the image; nothing else has started yet).
Result<void> Machine::open_disks() {
    for (const DiskConfig& d : config_.disks) {
        auto backend = block::FileBackend::open(
            d.path, d.read_only ? block::Access::ReadOnly : block::Access::ReadWrite);
        if (!backend) return backend.error();
        disks_.push_back(std::make_shared<block::BlockDevice>(std::move(*backend), d.serial));
    }
    return {};
}

// --net: every tap is opened before /dev/kvm, so a missing tap or a missing permission is
// reported as such on any host.
Result<void> Machine::open_taps() {
    for (const auto& spec : config_.nets) {
        auto tap = net::Tap::open(spec.tap);
        if (!tap) return tap.error().with_context(fmt::format("--net {}", spec.tap));
        taps_.push_back(std::move(*tap));
    }
    return {};
}

// Every writable disk's completed writes are made durable (fdatasync) before minivmm exits,
// whatever ended the VM (the guest, a fault, the timeout, SIGTERM or SIGINT): run() calls this
// once every thread has stopped, so nothing writes any more. A failure is one error line; the
// exit code stays that of the ending.
void Machine::flush_disks() {
    for (size_t i = 0; i < disks_.size(); ++i) {
        block::BlockDevice& disk = *disks_[i];
        if (disk.backend().read_only()) continue;
        const std::string& path = config_.disks[i].path;
        auto flushed = disk.backend().flush();
        if (!flushed)
            log(LogLevel::Error, "disk {}: flushing the image at exit failed: {}", path,
                flushed.error().message());
        else if (disk.flush_failed())
            log(LogLevel::Error, "disk {}: a flush failed while the guest ran: its writes may "
                "not all be in the image", path);
        else
            log(LogLevel::Info, "disk {}: flushed at exit", path);
    }
}

// Step 3: every virtio device of the plan, in slot order, realised on the machine.
Result<void> Machine::add_virtio_devices() {
    for (const VirtioDevicePlan& d : plan_.virtio) {
        if (d.kind == VirtioDevicePlan::Kind::Block)
            MINIVMM_TRY(add_virtio_device(disks_.at(d.index), d));
        else
            MINIVMM_TRY(add_net(d));
    }
    taps_.clear();   // moved into their devices
    return {};
}

// A virtio-net card on its --net tap. The tap's readiness reaches the device through its core
// (backend_ready, under the core's lock); the device says which readiness it wants
// (LoopFdWatch): EPOLLIN while it has receive buffers, EPOLLOUT while a send waits.
Result<void> Machine::add_net(const VirtioDevicePlan& plan) {
    std::unique_ptr<net::Tap>& tap = taps_.at(plan.index);
    const std::string name = fmt::format("net{} ({})", plan.index, tap->name());
    // The watch exists before the device (which keeps a pointer to it) and the core after it:
    // the handler finds the core through this slot.
    auto slot = std::make_shared<std::weak_ptr<virtio::VirtioCore>>();
    auto watch = std::make_unique<LoopFdWatch>(*loop_, tap->fd(), [slot] {
        if (auto core = slot->lock()) core->backend_ready();
    });
    auto device = std::make_shared<net::NetDevice>(config_.nets[plan.index].mac, std::move(tap),
                                                   watch.get());
    net_watches_.push_back(std::move(watch));
    auto core = add_virtio_device(device, plan);
    if (!core) return core.error();
    *slot = *core;
    nets_.push_back({name, std::move(device)});
    return {};
}

// One planned virtio-mmio device realised: its core, its register window on the MMIO bus, its
// interrupt through an irqfd, and one ioeventfd per planned notification (QueueNotify,
// datamatch = the queue index), so a notification reaches the I/O thread without an exit to
// user space.
Result<std::shared_ptr<virtio::VirtioCore>> Machine::add_virtio_device(
    std::shared_ptr<virtio::VirtioDevice> device, const VirtioDevicePlan& plan) {
    MINIVMM_ASSERT(device->num_queues() == plan.notify.size());
    auto line = KvmIrqLine::create(*vm_, plan.gsi);
    if (!line) return line.error().with_context(plan.name);
    auto core = std::make_shared<virtio::VirtioCore>(std::move(device), memory_,
                                                     std::move(*line), "virtio-mmio");
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
    return core;
}

} // namespace minivmm
