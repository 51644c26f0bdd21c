#include "machine/kvm_irq_line.hpp"

#include "base/log.hpp"

namespace minivmm {

Result<std::unique_ptr<KvmIrqLine>> KvmIrqLine::create(Vm& vm, uint32_t gsi) {
    auto fd = EventFd::create();
    if (!fd) return fd.error();
    MINIVMM_TRY(vm.register_irqfd(fd->fd(), gsi));
    return std::unique_ptr<KvmIrqLine>(new KvmIrqLine(vm, gsi, std::move(*fd)));
}

void KvmIrqLine::set_level(bool high) noexcept {
    // KVM_IRQ_LINE only fails for a GSI the irqchip does not have, which the machine never
    // hands out; log rather than crash a device thread.
    auto r = vm_.set_irq_line(gsi_, high);
    if (!r) log(LogLevel::Error, "irq line {}: {}", gsi_, r.error().message());
}

} // namespace minivmm
