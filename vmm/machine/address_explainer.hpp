// AddressExplainer: the walk of one guest virtual address down to host memory, for the explain
// port (`--demo paging`): GVA -> the guest's page tables, read by minivmm from guest RAM -> GPA,
// checked against KVM's own walk (KVM_TRANSLATE) -> the memory slot -> HVA -> HPA
// (/proc/self/pagemap) -> the bytes there, read back through the HVA.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/host_pagemap.hpp"
#include "kvm/vcpu.hpp"
#include "memory/guest_memory.hpp"
#include "memory/memory_slot.hpp"
#include "memory/page_walk.hpp"

namespace minivmm {

// What KVM_TRANSLATE said, without its header. Only these two fields mean something: x86 KVM
// answers every translation with writeable 1 and usermode 0, whatever the entries say.
struct KvmTranslation {
    bool valid = false;
    uint64_t gpa = 0;
};

// Every fact of one explanation, gathered on the vCPU thread; formatted without KVM.
struct AddressExplanation {
    uint64_t gva = 0;
    uint32_t vcpu = 0;
    PagingRegs regs;
    PageWalk walk;
    std::variant<KvmTranslation, std::string> kvm;   // or why KVM_TRANSLATE failed
    std::optional<MemorySlot> slot;                  // the slot holding the GPA
    std::variant<uint64_t, std::string> hpa = std::string("not looked up");
    std::vector<uint8_t> bytes;                      // up to 16, read through the HVA
};

// Several lines, each "  step: fact"; the first names the GVA and the vCPU.
std::string format_explanation(const AddressExplanation& e);

class AddressExplainer {
public:
    // `slots` as KVM has them; `pagemap` opened before the seccomp filters; `phys_bits` the
    // guest's MAXPHYADDR (reserved bits of its page-table entries).
    AddressExplainer(const GuestMemory& memory, std::vector<MemorySlot> slots, HostPagemap pagemap,
                     uint32_t phys_bits)
        : memory_(memory), slots_(std::move(slots)), pagemap_(std::move(pagemap)),
          phys_bits_(phys_bits) {}

    // On `vcpu`'s own thread (KVM_GET_SREGS and KVM_TRANSLATE are vCPU ioctls). The GVA is
    // guest-controlled: a bogus one, or bogus tables, give an explanation of where the walk
    // stopped, never a fault.
    AddressExplanation explain(const Vcpu& vcpu, uint64_t gva) const;

private:
    const GuestMemory& memory_;
    std::vector<MemorySlot> slots_;
    HostPagemap pagemap_;
    uint32_t phys_bits_;
};

} // namespace minivmm
