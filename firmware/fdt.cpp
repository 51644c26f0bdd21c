// The device tree builder; see fdt.hpp. libfdt's sequential-write API: each node is opened,
// given its properties, and closed, in order.
#include "fdt.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include <fmt/format.h>
#include <libfdt.h>

#include "memory/layout.hpp"

namespace minivmm::firmware {

namespace {

// Collects libfdt's first error so the building code reads as a straight list of properties.
class Writer {
public:
    explicit Writer(std::vector<uint8_t>& buf) : buf_(buf) {
        check(fdt_create(buf_.data(), static_cast<int>(buf_.size())));
        check(fdt_finish_reservemap(buf_.data()));
    }
    void begin(const std::string& name) { check(fdt_begin_node(buf_.data(), name.c_str())); }
    void end() { check(fdt_end_node(buf_.data())); }
    void str(const char* name, const char* value) {
        // fdt_property_string is a macro passing strlen() as an int; spell it out.
        check(fdt_property(buf_.data(), name, value, static_cast<int>(std::strlen(value) + 1)));
    }
    void u32(const char* name, uint32_t v) { check(fdt_property_u32(buf_.data(), name, v)); }
    void empty(const char* name) { check(fdt_property(buf_.data(), name, nullptr, 0)); }
    // A property of big-endian cells.
    void cells(const char* name, std::initializer_list<uint32_t> values) {
        std::vector<fdt32_t> be;
        for (uint32_t v : values) be.push_back(cpu_to_fdt32(v));
        check(fdt_property(buf_.data(), name, be.data(), static_cast<int>(be.size() * 4)));
    }
    // A `reg` pair with 2 address and 2 size cells.
    void reg(uint64_t addr, uint64_t size) {
        cells("reg", {hi(addr), lo(addr), hi(size), lo(size)});
    }
    Result<void> finish() {
        check(fdt_finish(buf_.data()));
        if (error_ != 0)
            return Error(ErrorCode::Invalid, fmt::format("Device tree: {}", fdt_strerror(error_)));
        buf_.resize(fdt_totalsize(buf_.data()));
        return {};
    }

private:
    static uint32_t hi(uint64_t v) { return static_cast<uint32_t>(v >> 32); }
    static uint32_t lo(uint64_t v) { return static_cast<uint32_t>(v); }
    void check(int r) {
        if (r < 0 && error_ == 0) error_ = r;
    }
    std::vector<uint8_t>& buf_;
    int error_ = 0;
};

Error invalid(const std::string& what) { return Error(ErrorCode::Invalid, "Device tree: " + what); }

} // namespace

Result<std::vector<uint8_t>> build_fdt(const FdtConfig& config) {
    if (config.num_vcpus == 0) return invalid("no vCPUs");
    if (config.ram_size < layout::MIN_RAM_SIZE || config.ram_size > layout::MAX_RAM_SIZE)
        return invalid(fmt::format("RAM size {:#x} is outside the layout's bounds", config.ram_size));
    for (const auto& d : config.virtio_devices)
        if (d.size == 0) return invalid(fmt::format("virtio-mmio device at {:#x} has no window", d.base));

    std::vector<uint8_t> buf(FDT_MAX_SIZE);
    Writer w(buf);
    w.begin("");
    w.str("compatible", "minivmm,x86-64");
    w.str("model", "minivmm");
    w.u32("#address-cells", 2);
    w.u32("#size-cells", 2);
    w.u32("interrupt-parent", FDT_IOAPIC_PHANDLE);

    uint64_t low = std::min(config.ram_size, layout::MMIO_HOLE_START);
    w.begin("memory@0");
    w.str("device_type", "memory");
    w.reg(layout::RAM_START, low);
    w.end();
    if (config.ram_size > low) {
        w.begin(fmt::format("memory@{:x}", layout::MMIO_HOLE_END));
        w.str("device_type", "memory");
        w.reg(layout::MMIO_HOLE_END, config.ram_size - low);
        w.end();
    }

    w.begin("cpus");
    w.u32("#address-cells", 1);
    w.u32("#size-cells", 0);
    for (uint32_t i = 0; i < config.num_vcpus; ++i) {
        w.begin(fmt::format("cpu@{:x}", i));
        w.str("device_type", "cpu");
        w.u32("reg", i);   // the local APIC ID, as in the MADT
        w.end();
    }
    w.end();

    w.begin(fmt::format("ioapic@{:x}", layout::IOAPIC_ADDR));
    w.str("compatible", "intel,ce4100-ioapic");
    w.empty("interrupt-controller");
    w.u32("#interrupt-cells", 2);
    w.u32("#address-cells", 0);   // an interrupt provider's unit addresses have no cells
    w.reg(layout::IOAPIC_ADDR, 0x1000);
    w.u32("phandle", FDT_IOAPIC_PHANDLE);
    w.end();

    w.begin(fmt::format("serial@{:x}", layout::COM1_PORT));
    w.str("compatible", "ns16550a");
    w.reg(layout::COM1_PORT, layout::COM1_PORT_COUNT);   // an I/O port range on x86
    w.u32("clock-frequency", 1843200);
    w.cells("interrupts", {layout::COM1_IRQ, 0});
    w.end();

    for (const auto& d : config.virtio_devices) {
        w.begin(fmt::format("virtio_mmio@{:x}", d.base));
        w.str("compatible", "virtio,mmio");
        w.reg(d.base, d.size);
        w.cells("interrupts", {d.irq, 0});
        w.empty("dma-coherent");
        w.end();
    }
    w.end();
    auto done = w.finish();
    if (!done) return done.error();
    return buf;
}

} // namespace minivmm::firmware
