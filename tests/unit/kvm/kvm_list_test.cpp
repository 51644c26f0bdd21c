// KvmList lays KVM's list ioctls out as the kernel's C structs do (entries from byte 8), not as
// g++ lays out the uapi structs (12 for kvm_cpuid2, 16 for kvm_msrs). No /dev/kvm needed.
#include "kvm/kvm_list.hpp"

#include <linux/kvm.h>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

uint32_t u32_at(void* base, size_t offset) {
    uint32_t v;
    std::memcpy(&v, static_cast<uint8_t*>(base) + offset, sizeof v);
    return v;
}

TEST(KvmList, MsrEntriesStartAtByteEightAsInC) {
    std::vector<kvm_msr_entry> msrs(2);
    msrs[0].index = 0x174;
    msrs[0].data = 0x10;
    msrs[1].index = 0xc0000080;
    KvmList<kvm_msr_entry> list{std::span<const kvm_msr_entry>(msrs)};
    EXPECT_EQ(u32_at(list.data(), 0), 2u);                    // nmsrs
    EXPECT_EQ(u32_at(list.data(), 8), 0x174u);                // entries[0].index
    EXPECT_EQ(u32_at(list.data(), 8 + 8), 0x10u);             // entries[0].data
    EXPECT_EQ(u32_at(list.data(), 8 + 16), 0xc0000080u);      // entries[1].index
}

TEST(KvmList, CpuidEntriesStartAtByteEightAsInC) {
    std::vector<kvm_cpuid_entry2> entries(2);
    entries[1].function = 0x40000000;
    entries[1].ebx = 0x4b4d564b; // "KVMK"
    KvmList<kvm_cpuid_entry2> list{std::span<const kvm_cpuid_entry2>(entries)};
    EXPECT_EQ(u32_at(list.data(), 0), 2u);                                  // nent
    EXPECT_EQ(u32_at(list.data(), 8 + sizeof(kvm_cpuid_entry2)), 0x40000000u);  // function
    EXPECT_EQ(u32_at(list.data(), 8 + sizeof(kvm_cpuid_entry2) + 16), 0x4b4d564bu); // ebx
}

TEST(KvmList, EntriesReadBackFromWhatTheKernelWrote) {
    // As KVM_GET_SUPPORTED_CPUID fills it: count 1, one entry at byte 8.
    KvmList<kvm_cpuid_entry2> list(4, 4);
    list.set_count(1);
    uint32_t leaf = 0x80000001;
    std::memcpy(static_cast<uint8_t*>(list.data()) + 8, &leaf, sizeof leaf);
    auto got = list.entries();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].function, 0x80000001u);
}

TEST(KvmList, CountBeyondCapacityIsClamped) {
    KvmList<kvm_msr_entry> list(2, 2);
    list.set_count(1000); // a kernel (or a bug) claiming more than the buffer holds
    EXPECT_EQ(list.entries().size(), 2u);
}

} // namespace
} // namespace minivmm
