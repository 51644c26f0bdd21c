// CPUID for each vCPU: KVM_GET_SUPPORTED_CPUID's table with the topology of a one-socket,
// N-core, one-thread-per-core machine filled in per vCPU (Intel SDM vol. 2A, CPUID; AMD APM
// vol. 3, CPUID), and the KVM paravirt signature (Documentation/virt/kvm/x86/cpuid.rst).
#pragma once

#include <cstdint>
#include <linux/kvm.h>
#include <vector>

namespace minivmm {

constexpr uint32_t CPUID_KVM_SIGNATURE = 0x4000'0000;   // "KVMKVMKVM\0\0\0" in EBX, ECX, EDX
constexpr uint32_t CPUID_KVM_FEATURES = 0x4000'0001;
constexpr uint32_t CPUID_LEAF1_EDX_HTT = 1U << 28;
constexpr uint32_t CPUID_LEAF1_ECX_TSC_DEADLINE = 1U << 24;
constexpr uint32_t CPUID_LEAF1_ECX_HYPERVISOR = 1U << 31;
constexpr uint32_t CPUID_TOPOLOGY_LEVEL_SMT = 1;        // leaf 0xB/0x1F ECX[15:8]
constexpr uint32_t CPUID_TOPOLOGY_LEVEL_CORE = 2;

// Rewrites `entries` (a copy of the supported table) for vCPU `index` of `count`, whose APIC ID
// is `index`:
//   leaf 1     EBX[31:24] initial APIC ID, EBX[23:16] logical processors in the package (count),
//              EDX.HTT set when count > 1, ECX.hypervisor set, ECX.TSC-deadline set when
//              `tsc_deadline`, else clear (KVM_CAP_TSC_DEADLINE_TIMER: KVM's local APIC has the mode but
//              never lists it in the supported table; without it Linux calibrates the APIC
//              timer against the PIT, which a descheduled vCPU makes fail: "APIC timer disabled
//              due to verification failure");
//   leaf 4     every cache: EAX[31:26] cores per package - 1, EAX[25:14] threads sharing it - 1
//              (0 for L1/L2, count - 1 for L3 and beyond);
//   leaf 0xB and 0x1F (each subleaf present): subleaf 0 the SMT level (1 thread, shift 0),
//              subleaf 1 the core level (count processors, shift = ceil(log2(count))), higher
//              subleaves invalid; EDX = the x2APIC ID;
//   0x40000000 EAX = highest paravirt leaf, "KVMKVMKVM" signature (the entry is added if absent).
// Entries of other leaves are left as KVM reported them. `count` must be >= 1 and index < count.
void fixup_cpuid(std::vector<kvm_cpuid_entry2>& entries, uint32_t index, uint32_t count,
                 bool tsc_deadline);

} // namespace minivmm
