// Bus: maps address ranges (port numbers or guest-physical MMIO addresses) to devices.
// Devices are inserted while the machine is built; after the vCPUs start the bus is only
// read, so lookups take no lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "bus/bus_device.hpp"

namespace minivmm {

struct AddressRange {
    uint64_t base;
    uint64_t length;
    // Overflow-proof containment of [addr, addr+len).
    bool contains(uint64_t addr, uint64_t len) const {
        return addr >= base && addr - base <= length && len <= length - (addr - base);
    }
};

class Bus {
public:
    explicit Bus(std::string name) : name_(std::move(name)) {}

    // Refuses zero-length and wrapping ranges and ranges overlapping an existing one.
    Result<void> insert(AddressRange range, std::shared_ptr<BusDevice> device, std::string name);

    // The outcome of one access: which device took it (nullptr name if none).
    struct Dispatch {
        bool handled;
        const std::string* device_name;   // valid while the bus lives
    };
    // Guest-controlled address and size. Sizes other than 1/2/4/8 and accesses that are not
    // wholly inside one device are unhandled. Unhandled reads return all ones; unhandled writes
    // are dropped. Both are counted.
    Dispatch read(uint64_t addr, std::span<uint8_t> data) const noexcept;
    Dispatch write(uint64_t addr, std::span<const uint8_t> data) const noexcept;

    uint64_t unhandled_count() const { return unhandled_.load(std::memory_order_relaxed); }
    const std::string& name() const { return name_; }

private:
    struct Entry {
        AddressRange range;
        std::shared_ptr<BusDevice> device;
        std::string name;
    };
    const Entry* find(uint64_t addr, uint64_t len) const;

    std::string name_;
    std::vector<Entry> entries_;   // sorted by base
    mutable std::atomic<uint64_t> unhandled_{0};
};

} // namespace minivmm
