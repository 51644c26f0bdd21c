// The guest's description of the machine; see guest_description.hpp.
#include "machine/guest_description.hpp"

#include "acpi/acpi_tables.hpp"
#include "boot/cmdline.hpp"
#include "boot_params.hpp"
#include "e820.hpp"
#include "long_mode_tables.hpp"
#include "memory/layout.hpp"
#include "mptable.hpp"
#include "pvh_start_info.hpp"

namespace minivmm {

Result<std::string> assemble_cmdline(uint64_t capacity, const std::string& user,
                                     const std::vector<acpi::VirtioMmioDeviceInfo>& devices) {
    Cmdline line(capacity);
    if (!user.empty()) {
        auto r = line.add(user);
        if (!r) return Error(ErrorCode::Usage, "--cmdline: " + r.error().message());
    }
    // The DSDT describes every device; a kernel that reads it and also finds the device on its
    // command line registers it twice and logs the second probe as failed (-EBUSY). So the
    // parameters go only to a kernel told not to use ACPI, as QEMU's microvm does.
    if (!has_kernel_param(user, "acpi=off")) return line.str();
    for (const auto& d : devices) {
        auto r = line.add(virtio_mmio_device_param(d.size, d.base, d.irq));
        if (!r)
            return Error(ErrorCode::Usage,
                         fmt::format("--cmdline with the virtio_mmio.device= parameters of {} "
                                     "devices: {}",
                                     devices.size(), r.error().message()));
    }
    return line.str();
}

Result<GuestAddress> write_guest_description(GuestMemory& mem, const GuestDescription& desc) {
    auto cmdline = assemble_cmdline(desc.cmdline_capacity, desc.user_cmdline, desc.virtio_devices);
    if (!cmdline) return cmdline.error();
    std::vector<uint8_t> bytes(cmdline->begin(), cmdline->end());
    bytes.push_back(0);
    auto w = mem.write(GuestAddress(layout::CMDLINE_ADDR), bytes);
    if (!w) return w.error().with_context("Kernel command line");

    acpi::AcpiConfig acpi_config;
    acpi_config.num_vcpus = desc.num_vcpus;
    acpi_config.virtio_devices = desc.virtio_devices;
    auto acpi = acpi::write_acpi_tables(acpi_config, mem, GuestAddress(layout::ACPI_TABLES_START));
    if (!acpi) return acpi.error().with_context("ACPI tables");
    if (acpi->total_size > layout::ACPI_TABLES_END - layout::ACPI_TABLES_START)
        return Error(ErrorCode::Invalid, fmt::format("ACPI tables: {} bytes overlap the MP table",
                                                     acpi->total_size));
    const GuestAddress rsdp = acpi->rsdp;
    // Every kernel gets the MP table too; Linux reads it only when it does not use ACPI's MADT.
    firmware::MpTableConfig mp_config;
    mp_config.num_vcpus = desc.num_vcpus;
    for (const auto& d : desc.virtio_devices) mp_config.virtio_gsis.push_back(d.irq);
    auto mp = firmware::write_mptable(mp_config, mem, GuestAddress(layout::MPTABLE_START),
                                      GuestAddress(layout::MPTABLE_END));
    if (!mp) return mp.error();
    auto e820 = firmware::build_e820_map(mem.total_size());
    if (!e820) return e820.error();

    if (desc.bzimage_header) {
        auto tables = firmware::write_long_mode_tables(mem);
        if (!tables) return tables.error();
        firmware::BootParamsInfo info;
        info.header = *desc.bzimage_header;
        info.cmdline = GuestAddress(layout::CMDLINE_ADDR);
        info.cmdline_len = cmdline->size();
        info.initrd_addr = desc.initrd_addr;
        info.initrd_size = desc.initrd_size;
        info.rsdp = rsdp;
        info.memory_map = *e820;
        auto params = firmware::build_boot_params(info);
        if (!params) return params.error();
        auto z = mem.write_obj(GuestAddress(layout::ZERO_PAGE_ADDR), *params);
        if (!z) return z.error().with_context("Zero page");
        return GuestAddress(layout::ZERO_PAGE_ADDR);
    }
    firmware::PvhBootInfo info{GuestAddress(layout::CMDLINE_ADDR), rsdp, *e820, desc.initrd_addr,
                               desc.initrd_size};
    return firmware::write_pvh_start_info(mem, GuestAddress(layout::PVH_START_INFO_ADDR),
                                          layout::PVH_START_INFO_SIZE, info);
}

} // namespace minivmm
