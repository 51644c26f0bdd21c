// The device side of a virtio device (Virtio 1.2 §2.1 device status, §2.2 features, §2.4 reset,
// §3.1.1 initialisation order); see virtio_core.hpp.
#include "virtio/virtio_core.hpp"

#include <algorithm>
#include <thread>

#include <linux/virtio_config.h>

#include "base/log.hpp"

namespace minivmm::virtio {

namespace {

// Status bits the driver may set; DEVICE_NEEDS_RESET is set by the device only.
constexpr uint32_t DRIVER_STATUS_BITS = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                                        VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK |
                                        VIRTIO_CONFIG_S_FAILED;

uint64_t set_page(uint64_t old, uint32_t value, uint32_t page) {
    return page == 1 ? (old & 0xffff'ffffULL) | (static_cast<uint64_t>(value) << 32)
                     : (old & ~0xffff'ffffULL) | value;
}

} // namespace

VirtioCore::VirtioCore(std::shared_ptr<VirtioDevice> device, const GuestMemory& mem,
                       std::unique_ptr<IrqLine> irq, const char* transport)
    : device_(std::move(device)), mem_(mem), irq_(std::move(irq)), transport_(transport),
      device_type_(device_->device_type()),
      device_features_(device_->features() | (1ULL << VIRTIO_F_VERSION_1)),
      num_queues_(device_->num_queues()),
      queues_(num_queues_, Queue(device_->queue_max_size())), addresses_(num_queues_) {}

bool VirtioCore::count_warning() const noexcept {
    unsigned n = warnings_.fetch_add(1, std::memory_order_relaxed);
    if (n + 1 == MAX_WARNINGS)
        log(LogLevel::Warn, "{}: further warnings of this device are suppressed", transport_);
    return n + 1 < MAX_WARNINGS;
}

void VirtioCore::log_warning(const std::string& text) const {
    log(LogLevel::Warn, "{}: {}", transport_, text);
}

// The bits are independent flags set by the I/O thread and cleared by vCPU threads; each
// read-modify-write is atomic, so neither side loses the other's update. Acquire/release: a
// vCPU that sees a bit also sees what the device did before setting it.
uint32_t VirtioCore::interrupt_status() const noexcept {
    return interrupt_status_.load(std::memory_order_acquire);
}

void VirtioCore::acknowledge_interrupt(uint32_t bits) noexcept {
    interrupt_status_.fetch_and(~bits, std::memory_order_acq_rel);
}

uint32_t VirtioCore::config_generation() const noexcept {
    return config_generation_.load(std::memory_order_acquire);
}

void VirtioCore::raise(uint32_t bits) noexcept {
    interrupt_status_.fetch_or(bits, std::memory_order_acq_rel);
    irq_->trigger();
}

uint32_t VirtioCore::status() const {
    std::lock_guard lock(mutex_);
    return status_;
}

uint64_t VirtioCore::driver_features() const {
    std::lock_guard lock(mutex_);
    return driver_features_;
}

std::optional<VirtioCore::View> VirtioCore::view(std::chrono::milliseconds wait) const {
    std::unique_lock lock(mutex_, std::try_to_lock);
    for (auto until = std::chrono::steady_clock::now() + wait; !lock.owns_lock();) {
        if (std::chrono::steady_clock::now() >= until) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        lock.try_lock();
    }
    View v{device_type_, status_, interrupt_status(), driver_features_, {}};
    for (const Queue& q : queues_) v.queues.push_back(q.view());
    return v;
}

void VirtioCore::write_driver_features(uint32_t page, uint32_t value) {
    std::lock_guard lock(mutex_);
    if ((status_ & VIRTIO_CONFIG_S_DRIVER) == 0 || (status_ & VIRTIO_CONFIG_S_FEATURES_OK)) {
        warn("DriverFeatures written outside negotiation (status {:#x})", status_);
        return;
    }
    if (page <= 1)
        driver_features_ = set_page(driver_features_, value, page);
    else if (value != 0)
        driver_features_beyond_64_ = true;   // offered nothing there: FEATURES_OK refused
}

void VirtioCore::read_config(uint64_t offset, std::span<uint8_t> data) const {
    std::fill(data.begin(), data.end(), uint8_t{0});
    std::lock_guard lock(mutex_);
    // Guest-controlled offset and width: the whole access must lie inside the config space.
    size_t size = device_->config_size();
    if (offset <= size && data.size() <= size - offset) device_->read_config(offset, data);
}

void VirtioCore::write_config(uint64_t offset, std::span<const uint8_t> data) {
    std::lock_guard lock(mutex_);
    size_t size = device_->config_size();
    if (offset <= size && data.size() <= size - offset) device_->write_config(offset, data);
}

bool VirtioCore::features_valid() const {
    return !driver_features_beyond_64_ && (driver_features_ & ~device_features_) == 0 &&
           (driver_features_ & (1ULL << VIRTIO_F_VERSION_1)) != 0;
}

bool VirtioCore::active() const {
    return activated_ && (status_ & VIRTIO_CONFIG_S_DRIVER_OK) &&
           (status_ & VIRTIO_CONFIG_S_NEEDS_RESET) == 0;
}

// §2.1 and §3.1.1: 0 resets; otherwise bits are only added, each after its predecessor
// (ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK); FAILED may be added at any time. Anything
// else is ignored whole.
void VirtioCore::write_status(uint32_t value) {
    std::lock_guard lock(mutex_);
    if (value == 0) {
        reset_locked();
        return;
    }
    uint32_t old = status_ & DRIVER_STATUS_BITS;
    uint32_t next = value & ~static_cast<uint32_t>(VIRTIO_CONFIG_S_NEEDS_RESET);
    uint32_t added = next & ~old;
    if ((old & ~next) != 0 || !status_in_order(next)) {
        warn("status {:#x} -> {:#x} ignored", status_, value);
        return;
    }
    if ((added & VIRTIO_CONFIG_S_FEATURES_OK) && !features_valid()) {
        warn("FEATURES_OK refused for features {:#x} (offered {:#x})", driver_features_,
             device_features_);
        return;   // not latched: the driver reads the status back and gives up
    }
    status_ = next | (status_ & VIRTIO_CONFIG_S_NEEDS_RESET);
    if ((added & VIRTIO_CONFIG_S_DRIVER_OK) && (status_ & VIRTIO_CONFIG_S_NEEDS_RESET) == 0) {
        if (auto r = device_->activate(*this, driver_features_); !r) {
            warn("device activation failed: {}", r.error().message());
            set_needs_reset();
            return;
        }
        activated_ = true;
        if (paused_) device_->pause(*this);   // activated while paused: no wake-ups yet
    }
}

bool VirtioCore::status_in_order(uint32_t next) {
    if ((next & ~DRIVER_STATUS_BITS) != 0) return false;
    if ((next & VIRTIO_CONFIG_S_DRIVER) && !(next & VIRTIO_CONFIG_S_ACKNOWLEDGE)) return false;
    if ((next & VIRTIO_CONFIG_S_FEATURES_OK) && !(next & VIRTIO_CONFIG_S_DRIVER)) return false;
    return !(next & VIRTIO_CONFIG_S_DRIVER_OK) || (next & VIRTIO_CONFIG_S_FEATURES_OK);
}

void VirtioCore::reset_locked() {
    device_->reset();
    for (Queue& q : queues_) q.reset();
    std::fill(addresses_.begin(), addresses_.end(), QueueAddresses{});
    status_ = 0;
    interrupt_status_.store(0, std::memory_order_release);
    driver_features_ = 0;
    driver_features_beyond_64_ = false;
    activated_ = false;
}

uint16_t VirtioCore::queue_max_size(size_t index) const {
    return index < num_queues_ ? queues_[index].max_size() : 0;   // constant: no lock
}

bool VirtioCore::queue_ready(size_t index) const {
    std::lock_guard lock(mutex_);
    return index < queues_.size() && queues_[index].ready();
}

uint64_t VirtioCore::queue_address(size_t index, Ring ring) const {
    std::lock_guard lock(mutex_);
    if (index >= addresses_.size()) return 0;
    const QueueAddresses& a = addresses_[index];
    return ring == Ring::Desc ? a.desc : ring == Ring::Avail ? a.avail : a.used;
}

// Queue configuration happens after FEATURES_OK and before DRIVER_OK (§3.1.1); the rings of a
// live device are frozen. Called with mutex_ held.
bool VirtioCore::configurable(size_t index, const char* what) const {
    if (index >= queues_.size()) {
        warn("queue {} out of range: {} ignored", index, what);
        return false;
    }
    if ((status_ & VIRTIO_CONFIG_S_FEATURES_OK) == 0 || (status_ & VIRTIO_CONFIG_S_DRIVER_OK)) {
        warn("queue {}: {} ignored in status {:#x}", index, what, status_);
        return false;
    }
    return true;
}

void VirtioCore::set_queue_address(size_t index, Ring ring, uint64_t address) {
    std::lock_guard lock(mutex_);
    if (!configurable(index, "ring address")) return;
    Queue& q = queues_[index];
    QueueAddresses& a = addresses_[index];
    switch (ring) {
    case Ring::Desc: a.desc = address; q.set_desc_table(GuestAddress(address)); return;
    case Ring::Avail: a.avail = address; q.set_avail_ring(GuestAddress(address)); return;
    case Ring::Used: a.used = address; q.set_used_ring(GuestAddress(address)); return;
    }
}

void VirtioCore::set_queue_size(size_t index, uint32_t size) {
    std::lock_guard lock(mutex_);
    if (!configurable(index, "size")) return;
    // Validated by Queue::activate(); 0 is refused there.
    queues_[index].set_size(size > 0xffff ? 0 : static_cast<uint16_t>(size));
}

void VirtioCore::set_queue_ready(size_t index, bool ready) {
    std::lock_guard lock(mutex_);
    if (!configurable(index, "ready")) return;
    Queue& q = queues_[index];
    if (!ready) {
        q.reset();   // back to the initial geometry; the driver programs it again
        addresses_[index] = {};
        return;
    }
    if (q.ready()) return;
    q.set_features(driver_features_);
    if (auto r = q.activate(mem_); !r) {
        warn("queue {} refused: {}", index, r.error().message());
        set_needs_reset();
    }
}

bool VirtioCore::notify(size_t index) noexcept {
    std::lock_guard lock(mutex_);
    // §2.1.2: no buffers are consumed before DRIVER_OK; a broken device waits for its reset.
    // Paused: dropped; resume()'s caller notifies every queue again.
    if (paused_ || !active() || index >= queues_.size() || !queues_[index].ready()) return false;
    requeued_ = false;
    device_->process_queue(*this, index);
    if (queues_[index].broken() && (status_ & VIRTIO_CONFIG_S_NEEDS_RESET) == 0) {
        warn("queue {} broke the ring protocol", index);
        set_needs_reset();
    }
    return requeued_ && active() && !paused_;
}

void VirtioCore::requeue(size_t) noexcept { requeued_ = true; }

void VirtioCore::backend_ready() noexcept {
    std::lock_guard lock(mutex_);
    if (active() && !paused_) device_->process_backend(*this);
}

void VirtioCore::signal_used() noexcept { raise(INT_USED_BUFFER); }

void VirtioCore::signal_config() noexcept {
    config_generation_.fetch_add(1, std::memory_order_acq_rel);
    raise(INT_CONFIG);
}

void VirtioCore::set_needs_reset() noexcept {
    if (status_ & VIRTIO_CONFIG_S_NEEDS_RESET) return;
    status_ |= VIRTIO_CONFIG_S_NEEDS_RESET;
    raise(INT_CONFIG);
}

} // namespace minivmm::virtio
