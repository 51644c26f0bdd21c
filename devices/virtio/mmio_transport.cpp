// virtio-mmio version 2 transport (Virtio 1.2 §4.2.2, §2.1 device status, §3.1.1 init order).
#include "virtio/mmio_transport.hpp"

#include <algorithm>
#include <thread>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "base/log.hpp"

namespace minivmm::virtio {

namespace {

constexpr uint32_t MAGIC = 0x74726976;   // "virt"
constexpr uint32_t VERSION = 2;          // modern virtio-mmio
// Status bits the driver may set; DEVICE_NEEDS_RESET is set by the device only.
constexpr uint32_t DRIVER_STATUS_BITS = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                                        VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK |
                                        VIRTIO_CONFIG_S_FAILED;

uint32_t load_le32(std::span<const uint8_t> data) {
    return static_cast<uint32_t>(data[0]) | static_cast<uint32_t>(data[1]) << 8 |
           static_cast<uint32_t>(data[2]) << 16 | static_cast<uint32_t>(data[3]) << 24;
}

void store_le32(std::span<uint8_t> data, uint32_t value) {
    for (size_t i = 0; i < 4; ++i) data[i] = static_cast<uint8_t>(value >> (8 * i));
}

uint64_t set_half(uint64_t old, uint32_t value, bool high) {
    return high ? (old & 0xffff'ffffULL) | (static_cast<uint64_t>(value) << 32)
                : (old & ~0xffff'ffffULL) | value;
}

} // namespace

MmioTransport::MmioTransport(std::shared_ptr<VirtioDevice> device, const GuestMemory& mem,
                             std::unique_ptr<IrqLine> irq)
    : device_(std::move(device)), mem_(mem), irq_(std::move(irq)),
      device_features_(device_->features() | (1ULL << VIRTIO_F_VERSION_1)),
      queues_(device_->num_queues(), Queue(device_->queue_max_size())),
      addresses_(device_->num_queues()) {}

template <typename... Args>
void MmioTransport::warn(fmt::format_string<Args...> format, Args&&... args) {
    if (warnings_ >= MAX_WARNINGS) return;
    if (++warnings_ == MAX_WARNINGS)
        log(LogLevel::Warn, "virtio-mmio: further warnings of this device are suppressed");
    else
        log(LogLevel::Warn, format, std::forward<Args>(args)...);
}

uint32_t MmioTransport::status() const {
    std::lock_guard lock(mutex_);
    return status_;
}

uint32_t MmioTransport::interrupt_status() const {
    std::lock_guard lock(mutex_);
    return interrupt_status_;
}

std::optional<MmioTransport::View> MmioTransport::view(std::chrono::milliseconds wait) const {
    std::unique_lock lock(mutex_, std::try_to_lock);
    for (auto until = std::chrono::steady_clock::now() + wait; !lock.owns_lock();) {
        if (std::chrono::steady_clock::now() >= until) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        lock.try_lock();
    }
    View v{device_->device_type(), status_, interrupt_status_, driver_features_, {}};
    for (const Queue& q : queues_) v.queues.push_back(q.view());
    return v;
}

void MmioTransport::read(uint64_t offset, std::span<uint8_t> data) noexcept {
    std::fill(data.begin(), data.end(), uint8_t{0});
    std::lock_guard lock(mutex_);
    if (offset >= CONFIG_OFFSET) {
        // Guest-controlled offset and width: the whole access must lie inside the config space.
        uint64_t off = offset - CONFIG_OFFSET;
        size_t size = device_->config_size();
        if (off <= size && data.size() <= size - off) device_->read_config(off, data);
        return;
    }
    if (data.size() != 4 || offset % 4 != 0) return;   // §4.2.2.2: 32-bit accesses only
    store_le32(data, read_register(offset));
}

void MmioTransport::write(uint64_t offset, std::span<const uint8_t> data) noexcept {
    std::lock_guard lock(mutex_);
    if (offset >= CONFIG_OFFSET) {
        uint64_t off = offset - CONFIG_OFFSET;
        size_t size = device_->config_size();
        if (off <= size && data.size() <= size - off) device_->write_config(off, data);
        return;
    }
    if (data.size() != 4 || offset % 4 != 0) {
        warn("virtio-mmio: ignored {}-byte register write at {:#x}", data.size(), offset);
        return;
    }
    write_register(offset, load_le32(data));
}

uint32_t MmioTransport::read_register(uint64_t offset) const {
    const Queue* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
    switch (offset) {
    case VIRTIO_MMIO_MAGIC_VALUE: return MAGIC;
    case VIRTIO_MMIO_VERSION: return VERSION;
    case VIRTIO_MMIO_DEVICE_ID: return device_->device_type();
    case VIRTIO_MMIO_VENDOR_ID: return VENDOR_ID;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        if (device_features_sel_ > 1) return 0;
        return static_cast<uint32_t>(device_features_ >> (32 * device_features_sel_));
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? q->max_size() : 0;
    case VIRTIO_MMIO_QUEUE_READY: return q && q->ready() ? 1 : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS: return interrupt_status_;
    case VIRTIO_MMIO_STATUS: return status_;
    case VIRTIO_MMIO_CONFIG_GENERATION: return config_generation_;
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH: return 0xffff'ffff;   // §4.2.2: no shared memory regions
    default: return 0;                                   // write-only or reserved
    }
}

void MmioTransport::write_register(uint64_t offset, uint32_t value) {
    switch (offset) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: device_features_sel_ = value; return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: driver_features_sel_ = value; return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        // Only while negotiating: DRIVER set, FEATURES_OK not yet (§3.1.1).
        if ((status_ & VIRTIO_CONFIG_S_DRIVER) == 0 || (status_ & VIRTIO_CONFIG_S_FEATURES_OK)) {
            warn("virtio-mmio: DriverFeatures written outside negotiation (status {:#x})", status_);
            return;
        }
        if (driver_features_sel_ <= 1)
            driver_features_ = set_half(driver_features_, value, driver_features_sel_ == 1);
        else if (value != 0)
            driver_features_beyond_64_ = true;   // offered nothing there: FEATURES_OK refused
        return;
    case VIRTIO_MMIO_QUEUE_SEL: queue_sel_ = value; return;   // range-checked on use
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        // Not caught by an ioeventfd (the machine registers one per queue, so only in tests or
        // for an index out of range): served to the end here, nobody would come back for it.
        while (notify_locked(value)) {
        }
        return;
    case VIRTIO_MMIO_INTERRUPT_ACK: interrupt_status_ &= ~value; return;
    case VIRTIO_MMIO_STATUS: write_status(value); return;
    case VIRTIO_MMIO_QUEUE_NUM:
    case VIRTIO_MMIO_QUEUE_READY:
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
    case VIRTIO_MMIO_QUEUE_USED_LOW:
    case VIRTIO_MMIO_QUEUE_USED_HIGH: write_queue_register(offset, value); return;
    default: warn("virtio-mmio: ignored write of {:#x} to register {:#x}", value, offset); return;
    }
}

Queue* MmioTransport::selected_queue() {
    return queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
}

void MmioTransport::write_queue_register(uint64_t offset, uint32_t value) {
    Queue* q = selected_queue();
    if (q == nullptr) {
        warn("virtio-mmio: queue register {:#x} written with QueueSel {} out of range", offset,
             queue_sel_);
        return;
    }
    // Queue configuration happens after FEATURES_OK and before DRIVER_OK (§3.1.1); the rings
    // of a live device are frozen (test catalogue TR-04).
    if ((status_ & VIRTIO_CONFIG_S_FEATURES_OK) == 0 || (status_ & VIRTIO_CONFIG_S_DRIVER_OK)) {
        warn("virtio-mmio: queue register {:#x} written in status {:#x}", offset, status_);
        return;
    }
    QueueAddresses& a = addresses_[queue_sel_];
    switch (offset) {
    case VIRTIO_MMIO_QUEUE_NUM:   // validated by Queue::activate(); 0 is refused there
        q->set_size(value > 0xffff ? 0 : static_cast<uint16_t>(value));
        return;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        a.desc = set_half(a.desc, value, offset == VIRTIO_MMIO_QUEUE_DESC_HIGH);
        q->set_desc_table(GuestAddress(a.desc));
        return;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
        a.avail = set_half(a.avail, value, offset == VIRTIO_MMIO_QUEUE_AVAIL_HIGH);
        q->set_avail_ring(GuestAddress(a.avail));
        return;
    case VIRTIO_MMIO_QUEUE_USED_LOW:
    case VIRTIO_MMIO_QUEUE_USED_HIGH:
        a.used = set_half(a.used, value, offset == VIRTIO_MMIO_QUEUE_USED_HIGH);
        q->set_used_ring(GuestAddress(a.used));
        return;
    case VIRTIO_MMIO_QUEUE_READY:
        if (value == 0) {
            q->reset();   // back to the initial geometry; the driver programs it again
            a = {};
            return;
        }
        if (q->ready()) return;
        q->set_features(driver_features_);
        if (auto r = q->activate(mem_); !r) {
            warn("virtio-mmio: queue {} refused: {}", queue_sel_, r.error().message());
            set_needs_reset();
        }
        return;
    default: return;
    }
}

bool MmioTransport::features_valid() const {
    return !driver_features_beyond_64_ && (driver_features_ & ~device_features_) == 0 &&
           (driver_features_ & (1ULL << VIRTIO_F_VERSION_1)) != 0;
}

bool MmioTransport::active() const {
    return activated_ && (status_ & VIRTIO_CONFIG_S_DRIVER_OK) &&
           (status_ & VIRTIO_CONFIG_S_NEEDS_RESET) == 0;
}

// §2.1 and §3.1.1: 0 resets; otherwise bits are only added, each after its predecessor
// (ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK); FAILED may be added at any time. Anything
// else is ignored whole.
void MmioTransport::write_status(uint32_t value) {
    if (value == 0) {
        reset_locked();
        return;
    }
    uint32_t old = status_ & DRIVER_STATUS_BITS;
    uint32_t next = value & ~static_cast<uint32_t>(VIRTIO_CONFIG_S_NEEDS_RESET);
    uint32_t added = next & ~old;
    bool valid = (next & ~DRIVER_STATUS_BITS) == 0 && (old & ~next) == 0;
    if (valid && (next & VIRTIO_CONFIG_S_DRIVER)) valid = next & VIRTIO_CONFIG_S_ACKNOWLEDGE;
    if (valid && (next & VIRTIO_CONFIG_S_FEATURES_OK)) valid = next & VIRTIO_CONFIG_S_DRIVER;
    if (valid && (next & VIRTIO_CONFIG_S_DRIVER_OK)) valid = next & VIRTIO_CONFIG_S_FEATURES_OK;
    if (!valid) {
        warn("virtio-mmio: status {:#x} -> {:#x} ignored", status_, value);
        return;
    }
    if ((added & VIRTIO_CONFIG_S_FEATURES_OK) && !features_valid()) {
        warn("virtio-mmio: FEATURES_OK refused for features {:#x} (offered {:#x})",
             driver_features_, device_features_);
        return;   // not latched: the driver reads the status back and gives up
    }
    status_ = next | (status_ & VIRTIO_CONFIG_S_NEEDS_RESET);
    if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && (status_ & VIRTIO_CONFIG_S_NEEDS_RESET) == 0) {
        if (auto r = device_->activate(*this, driver_features_); !r) {
            warn("virtio-mmio: device activation failed: {}", r.error().message());
            set_needs_reset();
            return;
        }
        activated_ = true;
    }
}

void MmioTransport::reset_locked() {
    device_->reset();
    for (Queue& q : queues_) q.reset();
    std::fill(addresses_.begin(), addresses_.end(), QueueAddresses{});
    status_ = 0;
    interrupt_status_ = 0;
    device_features_sel_ = 0;
    driver_features_sel_ = 0;
    driver_features_ = 0;
    driver_features_beyond_64_ = false;
    queue_sel_ = 0;
    activated_ = false;
}

bool MmioTransport::notify(size_t queue) noexcept {
    std::lock_guard lock(mutex_);
    return notify_locked(queue);
}

bool MmioTransport::notify_locked(uint64_t index) {
    // §2.1.2: no buffers are consumed before DRIVER_OK; a broken device waits for its reset.
    if (!active() || index >= queues_.size() || !queues_[index].ready()) return false;
    requeued_ = false;
    device_->process_queue(*this, index);
    if (queues_[index].broken() && (status_ & VIRTIO_CONFIG_S_NEEDS_RESET) == 0) {
        warn("virtio-mmio: queue {} broke the ring protocol", index);
        set_needs_reset();
    }
    return requeued_ && active();
}

void MmioTransport::requeue(size_t) noexcept { requeued_ = true; }

void MmioTransport::backend_ready() noexcept {
    std::lock_guard lock(mutex_);
    if (active()) device_->process_backend(*this);
}

void MmioTransport::signal_used() noexcept {
    interrupt_status_ |= VIRTIO_MMIO_INT_VRING;
    irq_->trigger();
}

void MmioTransport::signal_config() noexcept {
    ++config_generation_;
    interrupt_status_ |= VIRTIO_MMIO_INT_CONFIG;
    irq_->trigger();
}

void MmioTransport::set_needs_reset() noexcept {
    if (status_ & VIRTIO_CONFIG_S_NEEDS_RESET) return;
    status_ |= VIRTIO_CONFIG_S_NEEDS_RESET;
    interrupt_status_ |= VIRTIO_MMIO_INT_CONFIG;
    irq_->trigger();
}

} // namespace minivmm::virtio
