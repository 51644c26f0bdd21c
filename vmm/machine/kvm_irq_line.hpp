// KvmIrqLine: the IrqLine a device gets from the machine. trigger() writes an irqfd (an edge
// on the line, injected by KVM without an exit or an ioctl); set_level() is KVM_IRQ_LINE.
#pragma once

#include <memory>

#include "base/event_fd.hpp"
#include "irq_line.hpp"
#include "kvm/vm.hpp"

namespace minivmm {

class KvmIrqLine final : public IrqLine {
public:
    // Registers a new irqfd for `gsi` with `vm`, which must outlive the line.
    static Result<std::unique_ptr<KvmIrqLine>> create(Vm& vm, uint32_t gsi);

    void trigger() noexcept override { irqfd_.signal(); }
    void set_level(bool high) noexcept override;
    uint32_t gsi() const { return gsi_; }

private:
    KvmIrqLine(Vm& vm, uint32_t gsi, EventFd irqfd) : vm_(vm), gsi_(gsi), irqfd_(std::move(irqfd)) {}
    Vm& vm_;
    uint32_t gsi_;
    EventFd irqfd_;
};

} // namespace minivmm
