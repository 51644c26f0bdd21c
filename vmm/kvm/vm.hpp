// Vm: one KVM virtual machine (KVM_CREATE_VM) and its memory slots.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "kvm/kvm.hpp"
#include "memory/guest_memory.hpp"
#include "memory/memory_slot.hpp"

namespace minivmm {

class Vcpu;

class Vm {
public:
    static Result<Vm> create(const Kvm& kvm);

    int fd() const { return fd_.get(); }
    // Registers every region of `memory` as a memslot (slot numbers from 0).
    Result<void> map_memory(const GuestMemory& memory);
    // The slots map_memory registered, as KVM has them (KVM has no call that lists them).
    const std::vector<MemorySlot>& memory_slots() const { return slots_; }
    // The in-kernel interrupt controllers: PIC, IOAPIC and local APICs (KVM_CREATE_IRQCHIP),
    // and the PIT (KVM_CREATE_PIT2). With them, HLT no longer exits to user space.
    Result<void> create_irqchip_and_pit();
    // KVM_IRQFD: a write to `eventfd` raises an edge on interrupt line `gsi` (no exit, no
    // ioctl on the signalling thread). Needs the in-kernel irqchip.
    Result<void> register_irqfd(int eventfd, uint32_t gsi);
    // KVM_IOEVENTFD: a guest write of `len` bytes at MMIO `addr` (equal to `datamatch` when
    // given) signals `eventfd` inside KVM; the vCPU resumes at once and never exits to us.
    Result<void> register_ioeventfd(int eventfd, uint64_t addr, uint32_t len,
                                    std::optional<uint64_t> datamatch);
    // KVM_IRQ_LINE: drives interrupt line `gsi` high or low (level-triggered devices).
    Result<void> set_irq_line(uint32_t gsi, bool high);
    // The VM-wide state a snapshot saves and restores (KVM_GET_/SET_IRQCHIP, _PIT2, _CLOCK):
    // `request` is the ioctl number for a T, `name` names it in the error.
    template <class T> Result<T> get_state(unsigned long request, const char* name, T value = {}) const {
        MINIVMM_TRY(state_ioctl(request, &value, name));
        return value;
    }
    template <class T> Result<void> set_state(unsigned long request, const T& value, const char* name) {
        T copy = value;
        return state_ioctl(request, &copy, name);
    }
    // KVM_CREATE_VCPU with the given index (used as the APIC ID).
    Result<Vcpu> create_vcpu(const Kvm& kvm, uint32_t index);

private:
    Result<void> state_ioctl(unsigned long request, void* arg, const char* name) const;

    explicit Vm(UniqueFd fd) : fd_(std::move(fd)) {}
    UniqueFd fd_;
    std::vector<MemorySlot> slots_;
};

} // namespace minivmm
