// PC GSI routing; see gsi_routing.hpp.
#include "kvm/gsi_routing.hpp"

namespace minivmm {

namespace {
constexpr unsigned IOAPIC_PINS = 24;
constexpr unsigned PIC_IRQS = 16;

kvm_irq_routing_entry route(unsigned gsi, unsigned chip, unsigned pin) {
    kvm_irq_routing_entry e{};
    e.gsi = gsi;
    e.type = KVM_IRQ_ROUTING_IRQCHIP;
    e.u.irqchip.irqchip = chip;
    e.u.irqchip.pin = pin;
    return e;
}
} // namespace

std::vector<kvm_irq_routing_entry> pc_gsi_routing() {
    std::vector<kvm_irq_routing_entry> table;
    for (unsigned gsi = 0; gsi < PIC_IRQS; ++gsi) {
        if (gsi == 2) continue;   // the master's input from the slave
        table.push_back(route(gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
                              gsi % 8));
    }
    for (unsigned gsi = 0; gsi < IOAPIC_PINS; ++gsi) {
        if (gsi == 2) continue;
        table.push_back(route(gsi, KVM_IRQCHIP_IOAPIC, gsi == 0 ? 2 : gsi));
    }
    return table;
}

} // namespace minivmm
