// Tests of kvm/cpuid: the per-vCPU topology fix-up on synthetic KVM_GET_SUPPORTED_CPUID tables.
#include "kvm/cpuid.hpp"

#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

kvm_cpuid_entry2 entry(uint32_t function, uint32_t index, uint32_t eax, uint32_t ebx, uint32_t ecx,
                       uint32_t edx) {
    kvm_cpuid_entry2 e{};
    e.function = function;
    e.index = index;
    e.eax = eax;
    e.ebx = ebx;
    e.ecx = ecx;
    e.edx = edx;
    return e;
}

// A host-like table: leaf 1 with a host APIC ID and HTT, four caches in leaf 4, leaf 0xB with
// three subleaves, leaf 0x1F, the KVM leaves and an unrelated leaf 7.
std::vector<kvm_cpuid_entry2> host_table() {
    return {
        entry(0, 0, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69),
        entry(1, 0, 0x000906ea, 0x0b100800, 0x7ffafbff, 0xbfebfbff),
        entry(4, 0, 0x1c004121, 0x01c0003f, 0x3f, 0),   // L1d, 8 threads sharing, 8 cores
        entry(4, 1, 0x1c004122, 0x01c0003f, 0x3f, 0),   // L1i
        entry(4, 2, 0x1c004143, 0x00c0003f, 0x3ff, 0),  // L2
        entry(4, 3, 0x1c03c163, 0x03c0003f, 0x2fff, 6), // L3
        entry(4, 4, 0, 0, 0, 0),                        // end
        entry(7, 0, 0, 0x029c67af, 0, 0),
        entry(0xb, 0, 1, 2, 0x100, 7),
        entry(0xb, 1, 4, 12, 0x201, 7),
        entry(0xb, 2, 0, 0, 2, 7),
        entry(0x1f, 0, 1, 2, 0x100, 7),
        entry(0x1f, 1, 4, 12, 0x201, 7),
        entry(0x40000000, 0, 0x40000001, 0, 0, 0),
        entry(0x40000001, 0, 0x01007afb, 0, 0, 0),
    };
}

const kvm_cpuid_entry2& find(const std::vector<kvm_cpuid_entry2>& t, uint32_t f, uint32_t i = 0) {
    for (const auto& e : t)
        if (e.function == f && e.index == i) return e;
    ADD_FAILURE() << "no leaf " << std::hex << f << "." << i;
    static kvm_cpuid_entry2 none{};
    return none;
}

std::vector<kvm_cpuid_entry2> fixed(uint32_t index, uint32_t count) {
    auto t = host_table();
    fixup_cpuid(t, index, count, /*tsc_deadline=*/false);
    return t;
}

TEST(Cpuid, Leaf1CarriesEachVcpusApicIdAndTheLogicalCount) {
    for (uint32_t i = 0; i < 4; ++i) {
        auto t = fixed(i, 4);
        const auto& l1 = find(t, 1);
        EXPECT_EQ(l1.ebx >> 24, i);
        EXPECT_EQ((l1.ebx >> 16) & 0xff, 4u);
        EXPECT_EQ(l1.ebx & 0xffff, 0x0800u);   // CLFLUSH size and brand kept
        EXPECT_TRUE(l1.edx & CPUID_LEAF1_EDX_HTT);
        EXPECT_TRUE(l1.ecx & CPUID_LEAF1_ECX_HYPERVISOR);
        EXPECT_EQ(l1.eax, 0x000906eau);          // signature untouched
    }
}

TEST(Cpuid, OneVcpuHasNoHtt) {
    auto t = fixed(0, 1);
    EXPECT_FALSE(find(t, 1).edx & CPUID_LEAF1_EDX_HTT);
    EXPECT_EQ((find(t, 1).ebx >> 16) & 0xff, 1u);
    EXPECT_EQ(find(t, 1).ebx >> 24, 0u);
}

TEST(Cpuid, Leaf4CountsCoresPerPackageAndSharingPerCacheLevel) {
    auto t = fixed(1, 6);
    for (uint32_t sub = 0; sub < 4; ++sub) {
        const auto& e = find(t, 4, sub);
        EXPECT_EQ(e.eax >> 26, 5u) << sub;                     // 6 cores - 1
        uint32_t sharing = (e.eax >> 14) & 0xfff;
        EXPECT_EQ(sharing, sub < 3 ? 0u : 5u) << sub;          // L1/L2 private, L3 shared
        EXPECT_EQ(e.eax & 0x3fff, host_table()[2 + sub].eax & 0x3fff) << sub;   // type/level kept
    }
    EXPECT_EQ(find(t, 4, 4).eax, 0u);   // the terminating subleaf stays empty
}

TEST(Cpuid, ExtendedTopologyLeavesDescribeOneThreadPerCore) {
    for (uint32_t leaf : {0xbu, 0x1fu}) {
        auto t = fixed(3, 5);
        const auto& smt = find(t, leaf, 0);
        EXPECT_EQ(smt.eax & 0x1f, 0u);
        EXPECT_EQ(smt.ebx & 0xffff, 1u);
        EXPECT_EQ(smt.ecx, (CPUID_TOPOLOGY_LEVEL_SMT << 8) | 0u);
        EXPECT_EQ(smt.edx, 3u);
        const auto& core = find(t, leaf, 1);
        EXPECT_EQ(core.eax & 0x1f, 3u);   // ceil(log2(5))
        EXPECT_EQ(core.ebx & 0xffff, 5u);
        EXPECT_EQ(core.ecx, (CPUID_TOPOLOGY_LEVEL_CORE << 8) | 1u);
        EXPECT_EQ(core.edx, 3u);
    }
    auto t = fixed(3, 5);
    const auto& end = find(t, 0xb, 2);
    EXPECT_EQ(end.ebx, 0u);
    EXPECT_EQ((end.ecx >> 8) & 0xff, 0u);   // invalid level: enumeration stops
    EXPECT_EQ(end.edx, 3u);
}

TEST(Cpuid, CoreShiftIsExactForPowersOfTwo) {
    EXPECT_EQ(find(fixed(0, 1), 0xb, 1).eax, 0u);
    EXPECT_EQ(find(fixed(0, 2), 0xb, 1).eax, 1u);
    EXPECT_EQ(find(fixed(0, 8), 0xb, 1).eax, 3u);
    EXPECT_EQ(find(fixed(0, 9), 0xb, 1).eax, 4u);
    EXPECT_EQ(find(fixed(63, 64), 0xb, 1).eax, 6u);
    EXPECT_EQ(find(fixed(63, 64), 1).ebx >> 24, 63u);
}

TEST(Cpuid, KvmSignatureIsPresent) {
    auto t = fixed(0, 2);
    const auto& sig = find(t, CPUID_KVM_SIGNATURE);
    char text[13] = {};
    std::memcpy(text, &sig.ebx, 4);
    std::memcpy(text + 4, &sig.ecx, 4);
    std::memcpy(text + 8, &sig.edx, 4);
    EXPECT_EQ(std::string(text), "KVMKVMKVM");
    EXPECT_GE(sig.eax, CPUID_KVM_FEATURES);
    EXPECT_EQ(find(t, CPUID_KVM_FEATURES).eax, 0x01007afbu);   // features as KVM gave them
}

TEST(Cpuid, TscDeadlineIsOfferedOnlyWhenKvmHasIt) {
    for (bool has : {false, true}) {
        auto t = host_table();
        fixup_cpuid(t, 0, 1, has);
        EXPECT_EQ((find(t, 1).ecx & CPUID_LEAF1_ECX_TSC_DEADLINE) != 0, has);
        const uint32_t others = ~(CPUID_LEAF1_ECX_TSC_DEADLINE | CPUID_LEAF1_ECX_HYPERVISOR);
        EXPECT_EQ(find(t, 1).ecx & others, find(host_table(), 1).ecx & others);   // nothing else changed
    }
}

TEST(Cpuid, MissingKvmSignatureIsAdded) {
    std::vector<kvm_cpuid_entry2> t = {entry(1, 0, 0, 0, 0, 0)};
    fixup_cpuid(t, 0, 1, false);
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[1].function, CPUID_KVM_SIGNATURE);
    EXPECT_EQ(t[1].ebx, 0x4b4d564bu);   // "KVMK"
}

TEST(Cpuid, OtherLeavesAreUntouched) {
    auto t = fixed(2, 4);
    auto host = host_table();
    EXPECT_EQ(std::memcmp(&find(t, 7), &host[7], sizeof(kvm_cpuid_entry2)), 0);
    EXPECT_EQ(std::memcmp(&find(t, 0), &host[0], sizeof(kvm_cpuid_entry2)), 0);
}

} // namespace
} // namespace minivmm
