// The GSI routing of a PC for KVM's in-kernel irqchip: what KVM_SET_GSI_ROUTING is given right
// after KVM_CREATE_IRQCHIP. KVM's default table sends GSI n to IOAPIC pin n, but on a PC (and
// in the MADT's interrupt source override and the MP table minivmm writes) the PIT's IRQ 0
// arrives on IOAPIC pin 2. KVM's in-kernel PIT raises GSI 0, so without this table the timer
// reaches a pin Linux never unmasks.
#pragma once

#include <vector>

#include <linux/kvm.h>

namespace minivmm {

// GSI 0-15 go to the 8259 pair (pin = GSI, except the slave cascade, 2) and to the IOAPIC,
// GSI 0 on pin 2 and GSI 1-23 on their own pin (GSI 2 has no route: pin 2 is IRQ 0's).
std::vector<kvm_irq_routing_entry> pc_gsi_routing();

} // namespace minivmm
