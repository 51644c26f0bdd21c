// ACPI 6.5 §5.2: lays out and writes RSDP, XSDT, FADT, MADT and DSDT.
#include "acpi/acpi_tables.hpp"

#include <cstring>

#include <fmt/format.h>

#include "acpi/madt.hpp"
#include "acpi/rsdp.hpp"
#include "acpi/xsdt.hpp"

namespace minivmm::acpi {

namespace {

constexpr uint64_t RSDP_ALIGN = 16;
constexpr uint64_t TABLE_ALIGN = 8;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

void place(std::vector<uint8_t>& image, uint64_t offset, const std::vector<uint8_t>& table) {
    std::memcpy(image.data() + offset, table.data(), table.size());
}

} // namespace

Result<AcpiTableAddresses> write_acpi_tables(const AcpiConfig& config, GuestMemory& mem,
                                             GuestAddress base) {
    if (base.value() % RSDP_ALIGN != 0)
        return Error(ErrorCode::Invalid,
                     fmt::format("ACPI tables base {:#x} is not 16-byte aligned", base.value()));
    auto madt = build_madt(config.num_vcpus);
    if (!madt) return madt.error();
    auto dsdt = build_dsdt(config.virtio_devices);
    if (!dsdt) return dsdt.error();

    // Offsets from base: RSDP, XSDT, FADT, MADT, DSDT. Every size is known before any pointer.
    const uint64_t xsdt_off = align_up(sizeof(Rsdp), TABLE_ALIGN);
    const uint64_t fadt_off = align_up(xsdt_off + xsdt_size(2), TABLE_ALIGN);
    const uint64_t madt_off = align_up(fadt_off + sizeof(Fadt), TABLE_ALIGN);
    const uint64_t dsdt_off = align_up(madt_off + madt->size(), TABLE_ALIGN);
    const uint64_t total = dsdt_off + dsdt->size();

    AcpiTableAddresses at{base, base + xsdt_off, base + fadt_off, base + madt_off,
                          base + dsdt_off, total};
    const auto fadt = build_fadt(at.dsdt, config.power_ports);
    const auto xsdt = build_xsdt({at.fadt, at.madt});
    const Rsdp rsdp = make_rsdp(at.xsdt);

    // One image, one write: GuestMemory checks the whole range once (overflow-proof).
    std::vector<uint8_t> image(total, 0);
    std::memcpy(image.data(), &rsdp, sizeof(rsdp));
    place(image, xsdt_off, xsdt);
    place(image, fadt_off, fadt);
    place(image, madt_off, *madt);
    place(image, dsdt_off, *dsdt);
    auto w = mem.write(base, image);
    if (!w)
        return w.error().with_context(
            fmt::format("Failed to write {} bytes of ACPI tables at {:#x}", total, base.value()));
    return at;
}

Result<GuestAddress> build_acpi_tables(const AcpiConfig& config, GuestMemory& mem,
                                       GuestAddress base) {
    auto at = write_acpi_tables(config, mem, base);
    if (!at) return at.error();
    return at->rsdp;
}

} // namespace minivmm::acpi
