// Machine's virtio devices: the --disk images and --net taps are opened and checked in step 1
// (before /dev/kvm), put on the machine as virtio-mmio devices in step 3, and the disks flushed
// at the end of run().
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

Result<void> Machine::add_disks() {
    for (size_t i = 0; i < disks_.size(); ++i) {
        auto transport = add_virtio_device(disks_[i], fmt::format("virtio-blk{}", i));
        if (!transport) return transport.error();
        virtio_slots_.back().label += fmt::format(" ({})", config_.disks[i].path);
    }
    return {};
}

// One virtio-net card per --net tap. The tap's readiness reaches the device through its
// transport (backend_ready, under the transport's lock); the device says which readiness it
// wants (LoopFdWatch): EPOLLIN while it has receive buffers, EPOLLOUT while a send waits.
Result<void> Machine::add_nets() {
    for (size_t i = 0; i < taps_.size(); ++i) {
        const int fd = taps_[i]->fd();
        const std::string name = fmt::format("net{} ({})", i, taps_[i]->name());
        // The watch exists before the device (which keeps a pointer to it) and the transport
        // after it: the handler finds the transport through this slot.
        auto slot = std::make_shared<std::weak_ptr<virtio::MmioTransport>>();
        auto watch = std::make_unique<LoopFdWatch>(*loop_, fd, [slot] {
            if (auto transport = slot->lock()) transport->backend_ready();
        });
        auto device = std::make_shared<net::NetDevice>(config_.nets[i].mac, std::move(taps_[i]),
                                                       watch.get());
        net_watches_.push_back(std::move(watch));
        auto transport = add_virtio_device(device, fmt::format("virtio-net{}", i));
        if (!transport) return transport.error();
        virtio_slots_.back().label += fmt::format(" ({})", config_.nets[i].tap);
        *slot = *transport;
        nets_.push_back({name, std::move(device)});
    }
    taps_.clear();
    return {};
}

// The next virtio-mmio slot (layout.hpp): its register window on the MMIO bus, its interrupt
// through an irqfd, and one ioeventfd per queue on QueueNotify (datamatch = the queue index),
// so a notification reaches the I/O thread without an exit to user space.
Result<std::shared_ptr<virtio::MmioTransport>> Machine::add_virtio_device(
    std::shared_ptr<virtio::VirtioDevice> device, const std::string& name) {
    const size_t slot = virtio_devices_.size();
    if (slot >= layout::VIRTIO_MMIO_MAX_DEVICES)
        return Error(ErrorCode::Usage, fmt::format("Too many virtio devices (at most {})",
                                                   layout::VIRTIO_MMIO_MAX_DEVICES));
    const uint64_t base = layout::VIRTIO_MMIO_BASE + slot * layout::VIRTIO_MMIO_SLOT_SIZE;
    const uint32_t irq = layout::VIRTIO_MMIO_IRQS[slot];
    auto line = KvmIrqLine::create(*vm_, irq);
    if (!line) return line.error().with_context(name);
    const size_t queues = device->num_queues();
    auto transport =
        std::make_shared<virtio::MmioTransport>(std::move(device), memory_, std::move(*line));
    MINIVMM_TRY(mmio_.insert({base, layout::VIRTIO_MMIO_SLOT_SIZE}, transport, name));
    for (size_t q = 0; q < queues; ++q) {
        auto fd = EventFd::create();
        if (!fd) return fd.error();
        MINIVMM_TRY(vm_->register_ioeventfd(fd->fd(), base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, q));
        const EventFd* notify =
            notify_fds_.emplace_back(std::make_unique<EventFd>(std::move(*fd))).get();
        MINIVMM_TRY(loop_->add(notify->fd(), EPOLLIN, [transport, notify, q](uint32_t) {
            notify->consume();
            // The device yielded with work left: come back after the loop's other sources.
            if (transport->notify(q)) notify->signal();
        }));
    }
    virtio_devices_.push_back({base, layout::VIRTIO_MMIO_SLOT_SIZE, irq});
    virtio_slots_.push_back({fmt::format("{} at {:#x}, irq {}", name, base, irq), transport});
    return transport;
}

} // namespace minivmm
