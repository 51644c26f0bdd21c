// Intel MultiProcessor Specification 1.4 floating pointer and configuration table.
#include "mptable.hpp"
#include "table_bytes.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

#include "memory/layout.hpp"

namespace minivmm::firmware {

namespace {

constexpr uint64_t FOUR_GIB = 1ULL << 32;
constexpr uint32_t ISA_IRQS = 16;
constexpr uint32_t TIMER_IRQ = 0;
constexpr uint32_t TIMER_PIN = 2;    // MADT: ISA IRQ 0 -> GSI 2
constexpr uint32_t CASCADE_IRQ = 2;  // the slave PIC's input on the master: no device
constexpr uint32_t SCI_IRQ = 9;      // MADT: level-triggered, active high


template <size_t N>
void copy_text(char (&field)[N], std::string_view text) {
    std::memset(field, ' ', N);
    std::memcpy(field, text.data(), std::min(N, text.size()));
}

MpInterrupt io_interrupt(uint32_t irq, uint32_t pin, uint16_t flags) {
    return {MP_ENTRY_IO_INTERRUPT, MP_INT,        flags,
            MP_ISA_BUS_ID,         static_cast<uint8_t>(irq), layout::IOAPIC_ID,
            static_cast<uint8_t>(pin)};
}

Result<void> check(const MpTableConfig& config, GuestAddress base) {
    if (config.num_vcpus == 0 || config.num_vcpus > MP_MAX_VCPUS)
        return Error(ErrorCode::Invalid, fmt::format("MP table: {} vCPUs is outside 1..{}",
                                                     config.num_vcpus, MP_MAX_VCPUS));
    if (base.value() % 16 != 0 || base.value() >= FOUR_GIB)
        return Error(ErrorCode::Invalid,
                     fmt::format("MP table: base {:#x} is not 16-byte aligned below 4 GiB",
                                 base.value()));
    const auto& gsis = config.virtio_gsis;
    for (auto it = gsis.begin(); it != gsis.end(); ++it)
        if (*it >= layout::IOAPIC_PINS || *it == TIMER_IRQ || *it == TIMER_PIN ||
            std::find(gsis.begin(), it, *it) != it)
            return Error(ErrorCode::Invalid,
                         fmt::format("MP table: virtio-mmio GSI {} is not a free IOAPIC pin", *it));
    return {};
}

} // namespace

Result<std::vector<uint8_t>> build_mptable(const MpTableConfig& config, GuestAddress base) {
    if (auto ok = check(config, base); !ok) return ok.error();
    const auto is_virtio = [&](uint32_t gsi) {
        return std::find(config.virtio_gsis.begin(), config.virtio_gsis.end(), gsi) !=
               config.virtio_gsis.end();
    };

    std::vector<uint8_t> entries;
    uint16_t count = 0;
    const auto add = [&](const auto& entry) {
        append(entries, entry);
        ++count;
    };
    for (uint32_t i = 0; i < config.num_vcpus; ++i) {
        const auto flags = static_cast<uint8_t>(MP_CPU_ENABLED | (i == 0 ? MP_CPU_BOOT_PROCESSOR : 0));
        add(MpProcessor{MP_ENTRY_PROCESSOR, static_cast<uint8_t>(i), MP_LOCAL_APIC_VERSION, flags,
                        0, 0, {0, 0}});
    }
    MpBus isa{MP_ENTRY_BUS, MP_ISA_BUS_ID, {}};
    copy_text(isa.bus_type, "ISA");
    add(isa);
    add(MpIoApic{MP_ENTRY_IO_APIC, layout::IOAPIC_ID, MP_IO_APIC_VERSION, MP_IO_APIC_ENABLED,
                 static_cast<uint32_t>(layout::IOAPIC_ADDR)});
    for (uint32_t irq = 0; irq < ISA_IRQS; ++irq) {
        if (irq == CASCADE_IRQ || is_virtio(irq)) continue;
        const uint32_t pin = irq == TIMER_IRQ ? TIMER_PIN : irq;
        const uint16_t flags = irq == SCI_IRQ ? MP_POLARITY_ACTIVE_HIGH | MP_TRIGGER_LEVEL
                                              : MP_FLAGS_CONFORMING;
        add(io_interrupt(irq, pin, flags));
    }
    for (uint32_t gsi : config.virtio_gsis)
        add(io_interrupt(gsi, gsi, MP_POLARITY_ACTIVE_HIGH | MP_TRIGGER_EDGE));
    // The PIC's output reaches vCPU 0's LINT0 (virtual wire mode); LINT1 is every CPU's NMI.
    add(MpInterrupt{MP_ENTRY_LOCAL_INTERRUPT, MP_EXTINT, MP_FLAGS_CONFORMING, MP_ISA_BUS_ID, 0, 0,
                    0});
    add(MpInterrupt{MP_ENTRY_LOCAL_INTERRUPT, MP_NMI, MP_FLAGS_CONFORMING, MP_ISA_BUS_ID, 0,
                    MP_ALL_LOCAL_APICS, 1});

    MpConfigHeader h{};
    std::memcpy(h.signature, "PCMP", 4);
    h.base_table_length = static_cast<uint16_t>(sizeof(MpConfigHeader) + entries.size());
    h.spec_rev = MP_SPEC_REV;
    copy_text(h.oem_id, "MINIVMM");
    copy_text(h.product_id, "MINIVMM");
    h.entry_count = count;
    h.local_apic_address = static_cast<uint32_t>(layout::LAPIC_ADDR);
    std::vector<uint8_t> table;
    append(table, h);
    table.insert(table.end(), entries.begin(), entries.end());
    table[offsetof(MpConfigHeader, checksum)] = checksum(table);

    MpFloatingPointer fp{};
    std::memcpy(fp.signature, "_MP_", 4);
    fp.config_table_address = static_cast<uint32_t>(base.value() + sizeof(MpFloatingPointer));
    fp.length = sizeof(MpFloatingPointer) / 16;
    fp.spec_rev = MP_SPEC_REV;
    std::vector<uint8_t> out;
    append(out, fp);
    out[offsetof(MpFloatingPointer, checksum)] = checksum(out);
    out.insert(out.end(), table.begin(), table.end());
    return out;
}

Result<uint64_t> write_mptable(const MpTableConfig& config, GuestMemory& mem, GuestAddress base,
                               GuestAddress end) {
    auto bytes = build_mptable(config, base);
    if (!bytes) return bytes.error();
    if (end.value() < base.value() || bytes->size() > end.value() - base.value())
        return Error(ErrorCode::Invalid,
                     fmt::format("MP table: {} bytes do not fit in {:#x}..{:#x}", bytes->size(),
                                 base.value(), end.value()));
    auto w = mem.write(base, *bytes);
    if (!w) return w.error().with_context("MP table");
    return bytes->size();
}

} // namespace minivmm::firmware
