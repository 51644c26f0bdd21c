// Machine: guest memory made visible. The explain port of the demos (a GVA walked down to host
// memory, address_explainer.hpp) and the memory map of --show-memory (memory_map.hpp).
#include <cpuid.h>
#include <cstdio>

#include "base/log.hpp"
#include "demos.hpp"
#include "legacy/explain_port.hpp"
#include "machine/machine.hpp"

namespace minivmm {

namespace {
// The host's MAXPHYADDR (CPUID 0x80000008 EAX[7:0]), which KVM's supported CPUID passes on to
// the guest: page-table entry bits above it are reserved.
uint32_t host_phys_bits() {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(0x8000'0008, &a, &b, &c, &d) == 0 || (a & 0xff) == 0) return 36;
    return a & 0xff;
}
} // namespace

// Step 3, after the memory slots. The explainer for every VM (ctl translate asks it of a
// running kernel too); /proc/self/pagemap is opened here, before the seccomp filters forbid
// open. The port for demos only (the ports 0x518-0x51f are QEMU's fw_cfg on a PC, which a
// kernel may probe).
Result<void> Machine::add_explain_port() {
    explainer_ = std::make_unique<AddressExplainer>(memory_, vm_->memory_slots(),
                                                    HostPagemap::open(), host_phys_bits());
    if (config_.kernel) return {};
    const AddressExplainer* explainer = explainer_.get();
    auto port = std::make_shared<ExplainPort>([explainer](uint64_t gva) {
        const Vcpu* vcpu = VcpuLoop::current_vcpu();   // the port handler runs on the vCPU thread
        if (vcpu == nullptr) return;
        std::fputs(format_explanation(explainer->explain(*vcpu, gva)).c_str(), stderr);
    });
    return pio_.insert({layout::EXPLAIN_PORT, ExplainPort::PORT_COUNT}, port, "explain-port");
}

// What the guest finds where, besides its RAM: what minivmm wrote into RAM for it and the
// device windows of the MMIO hole.
std::vector<MemoryMapRegion> Machine::memory_layout() const {
    std::vector<MemoryMapRegion> r;
    auto add = [&r](uint64_t start, uint64_t size, std::string what) {
        if (size > 0) r.push_back({start, start + size, std::move(what)});
    };
    if (config_.kernel) {
        const bool bzimage = entry_mode_ == EntryMode::Long64;
        add(layout::BOOT_GDT_ADDR, layout::BOOT_GDT_ENTRIES * 8, "boot GDT (flat code and data)");
        if (bzimage) {
            add(layout::ZERO_PAGE_ADDR, 0x1000, "zero page (boot_params), RSI at entry");
            add(layout::PML4_ADDR, layout::PAGE_TABLES_END - layout::PML4_ADDR,
                "boot page tables: PML4, PDPT, 4 PDs identity-mapping 4 GiB");
        } else {
            add(layout::PVH_START_INFO_ADDR, layout::PVH_START_INFO_SIZE,
                "PVH hvm_start_info and memory map, EBX at entry");
        }
        add(layout::CMDLINE_ADDR, layout::CMDLINE_MAX, "kernel command line");
        add(layout::EBDA_START, layout::ACPI_TABLES_START - layout::EBDA_START,
            "EBDA and legacy video/ROM area (reserved in the e820 map)");
        add(layout::ACPI_TABLES_START, layout::ACPI_TABLES_END - layout::ACPI_TABLES_START,
            "ACPI tables: RSDP, XSDT, FADT, MADT, DSDT");
        add(layout::MPTABLE_START, layout::MPTABLE_END - layout::MPTABLE_START,
            "MP floating pointer and MP configuration table");
        add(layout::DEMO_LOAD_ADDR, kernel_end_ - std::min(kernel_end_, layout::DEMO_LOAD_ADDR),
            bzimage ? "kernel: bzImage protected-mode part and its init_size"
                    : "kernel: PVH ELF segments");
        add(initrd_addr_, initrd_size_, "initrd");
    } else if (const Demo* demo = find_demo(config_.demo)) {
        add(layout::DEMO_LOAD_ADDR, demo->image.size(),
            fmt::format("demo '{}': flat binary, entered here in 32-bit mode", demo->name));
    }
    add(layout::MMIO_HOLE_START, layout::MMIO_HOLE_END - layout::MMIO_HOLE_START,
        "32-bit MMIO hole: no RAM, accesses exit to minivmm (or to KVM's devices)");
    add(layout::SCRATCH_MMIO_BASE, layout::SCRATCH_MMIO_SIZE, "scratch MMIO device");
    for (const VirtioDevicePlan& d : plan_.virtio) add(d.base, d.size, d.label());
    if (plan_.irqchip) {
        add(layout::IOAPIC_ADDR, 0x1000, "IOAPIC (in KVM)");
        add(layout::LAPIC_ADDR, 0x1000, "local APICs (in KVM, one per vCPU)");
    }
    return r;
}

// --show-memory prints the table; --log-level info logs it a line per slot and region.
void Machine::report_memory() const {
    const auto& slots = vm_->memory_slots();
    if (config_.show_memory) std::fputs(format_memory_map(slots, memory_layout()).c_str(), stderr);
    if (log_level() <= LogLevel::Info)
        for (const std::string& line : memory_map_lines(slots, memory_layout()))
            log(LogLevel::Info, "{}", line);
}

} // namespace minivmm
