// Per-vCPU CPUID topology; see cpuid.hpp.
#include "kvm/cpuid.hpp"

#include <cstring>

namespace minivmm {

namespace {

// Bits needed to number `count` items: ceil(log2(count)).
uint32_t order(uint32_t count) {
    uint32_t bits = 0;
    while ((1ULL << bits) < count) ++bits;
    return bits;
}

uint32_t signature_word(const char* four) {
    uint32_t w;
    std::memcpy(&w, four, 4);
    return w;
}

void fix_topology_leaf(kvm_cpuid_entry2& e, uint32_t apic_id, uint32_t count) {
    uint32_t level = e.index & 0xff;
    e.edx = apic_id;
    if (level == 0) {          // SMT: one thread per core
        e.eax = 0;
        e.ebx = 1;
        e.ecx = (CPUID_TOPOLOGY_LEVEL_SMT << 8) | level;
    } else if (level == 1) {   // cores: all vCPUs in one package
        e.eax = order(count);
        e.ebx = count;
        e.ecx = (CPUID_TOPOLOGY_LEVEL_CORE << 8) | level;
    } else {                   // no further levels: type 0 (invalid)
        e.eax = 0;
        e.ebx = 0;
        e.ecx = level;
    }
}

void fix_cache_leaf(kvm_cpuid_entry2& e, uint32_t count) {
    uint32_t cache_level = (e.eax >> 5) & 0x7;
    if ((e.eax & 0x1f) == 0) return;   // type 0: no more caches
    uint32_t sharing = cache_level >= 3 ? count - 1 : 0;
    e.eax &= 0x3fff;                   // keep type, level and the flag bits
    e.eax |= ((count - 1) & 0x3f) << 26;
    e.eax |= (sharing & 0xfff) << 14;
}

} // namespace

void fixup_cpuid(std::vector<kvm_cpuid_entry2>& entries, uint32_t index, uint32_t count,
                 bool tsc_deadline) {
    bool has_signature = false;
    for (auto& e : entries) {
        switch (e.function) {
        case 1:
            e.ebx = (e.ebx & 0x0000'ffff) | (index << 24) | ((count & 0xff) << 16);
            e.edx = count > 1 ? (e.edx | CPUID_LEAF1_EDX_HTT) : (e.edx & ~CPUID_LEAF1_EDX_HTT);
            e.ecx |= CPUID_LEAF1_ECX_HYPERVISOR;
            e.ecx = tsc_deadline ? (e.ecx | CPUID_LEAF1_ECX_TSC_DEADLINE)
                                 : (e.ecx & ~CPUID_LEAF1_ECX_TSC_DEADLINE);
            break;
        case 4: fix_cache_leaf(e, count); break;
        case 0xb:
        case 0x1f: fix_topology_leaf(e, index, count); break;
        case CPUID_KVM_SIGNATURE:
            has_signature = true;
            e.eax = e.eax < CPUID_KVM_FEATURES ? CPUID_KVM_FEATURES : e.eax;
            e.ebx = signature_word("KVMK");
            e.ecx = signature_word("VMKV");
            e.edx = signature_word("M\0\0\0");
            break;
        default: break;
        }
    }
    if (!has_signature) {
        kvm_cpuid_entry2 e{};
        e.function = CPUID_KVM_SIGNATURE;
        e.eax = CPUID_KVM_FEATURES;
        e.ebx = signature_word("KVMK");
        e.ecx = signature_word("VMKV");
        e.edx = signature_word("M\0\0\0");
        entries.push_back(e);
    }
}

} // namespace minivmm
