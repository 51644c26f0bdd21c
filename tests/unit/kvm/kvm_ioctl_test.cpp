// The list ioctls against the real /dev/kvm (skipped, with the reason, without one): what KVM
// hands back and takes in must be read at the C layout's offsets (kvm_list.hpp). A shifted
// layout shows here as a CPUID without KVM's signature leaf and as MSRs that KVM refuses.
#include <algorithm>
#include <cstring>

#include <gtest/gtest.h>

#include "../../integration/kvm_available.hpp"
#include "kvm/cpuid.hpp"
#include "kvm/kvm.hpp"
#include "kvm/vcpu.hpp"
#include "kvm/vm.hpp"

namespace minivmm {
namespace {

TEST(KvmIoctl, SupportedCpuidHasLeafZeroAndKvmsSignature) {
    REQUIRE_KVM();
    auto kvm = Kvm::open();
    ASSERT_TRUE(kvm) << kvm.error().message();
    auto entries = supported_cpuid(*kvm);
    ASSERT_TRUE(entries) << entries.error().message();
    auto leaf = [&](uint32_t function) {
        return std::find_if(entries->begin(), entries->end(),
                            [&](const kvm_cpuid_entry2& e) { return e.function == function; });
    };
    auto zero = leaf(0);
    ASSERT_NE(zero, entries->end());
    EXPECT_GE(zero->eax, 1u);   // the highest basic leaf
    auto kvm_leaf = leaf(0x40000000);
    ASSERT_NE(kvm_leaf, entries->end());
    char signature[13] = {};
    std::memcpy(signature, &kvm_leaf->ebx, 4);
    std::memcpy(signature + 4, &kvm_leaf->ecx, 4);
    std::memcpy(signature + 8, &kvm_leaf->edx, 4);
    EXPECT_STREQ(signature, "KVMKVMKVM");
}

TEST(KvmIoctl, MsrsAreAcceptedAndReadBack) {
    REQUIRE_KVM();
    auto kvm = Kvm::open();
    ASSERT_TRUE(kvm) << kvm.error().message();
    auto vm = Vm::create(*kvm);
    ASSERT_TRUE(vm) << vm.error().message();
    auto vcpu = vm->create_vcpu(*kvm, 0);
    ASSERT_TRUE(vcpu) << vcpu.error().message();
    ASSERT_TRUE(vcpu->set_supported_cpuid(*kvm));
    kvm_msr_entry cs{}, esp{};
    cs.index = 0x174;   // IA32_SYSENTER_CS
    cs.data = 0x10;
    esp.index = 0x175;  // IA32_SYSENTER_ESP
    esp.data = 0x123456;
    auto set = vcpu->set_msrs({cs, esp});
    ASSERT_TRUE(set) << set.error().message();
    auto got = vcpu->get_msrs({0x174, 0x175});
    ASSERT_TRUE(got) << got.error().message();
    ASSERT_EQ(got->size(), 2u);
    EXPECT_EQ((*got)[0].data, 0x10u);
    EXPECT_EQ((*got)[1].data, 0x123456u);
}

} // namespace
} // namespace minivmm
