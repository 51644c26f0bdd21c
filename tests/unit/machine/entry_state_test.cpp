// Tests of machine/entry_state: the register states of the 64-bit and 32-bit entries, the boot
// MSRs and the FPU, as plain structs (no /dev/kvm).
#include "machine/entry_state.hpp"

#include <algorithm>
#include <cstring>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

firmware::LongModeTables tables() {
    return {GuestAddress(layout::PML4_ADDR), GuestAddress(layout::BOOT_GDT_ADDR), 31};
}

TEST(EntryState, LongModeHasPagingPaeAndLongModeEnabled) {
    kvm_sregs s{};
    set_long_mode_sregs(s, tables());
    EXPECT_EQ(s.cr3, layout::PML4_ADDR);
    EXPECT_TRUE(s.cr0 & X86_CR0_PE);
    EXPECT_TRUE(s.cr0 & X86_CR0_PG);
    EXPECT_TRUE(s.cr4 & X86_CR4_PAE);
    EXPECT_TRUE(s.efer & EFER_LME);
    EXPECT_TRUE(s.efer & EFER_LMA);
    EXPECT_EQ(s.gdt.base, layout::BOOT_GDT_ADDR);
    EXPECT_EQ(s.gdt.limit, 31);
}

TEST(EntryState, LongModeSegmentsAreTheBootProtocolsSelectors) {
    kvm_sregs s{};
    set_long_mode_sregs(s, tables());
    EXPECT_EQ(s.cs.selector, 0x10);
    EXPECT_EQ(s.cs.l, 1);
    EXPECT_EQ(s.cs.db, 0);
    EXPECT_EQ(s.cs.type, 0xb);
    EXPECT_EQ(s.cs.present, 1);
    EXPECT_EQ(s.cs.s, 1);
    EXPECT_EQ(s.cs.dpl, 0);
    for (const kvm_segment* seg : {&s.ds, &s.es, &s.fs, &s.gs, &s.ss}) {
        EXPECT_EQ(seg->selector, 0x18);
        EXPECT_EQ(seg->type, 0x3);
        EXPECT_EQ(seg->base, 0u);
        EXPECT_EQ(seg->limit, 0xffffffffu);
        EXPECT_EQ(seg->g, 1);
        EXPECT_EQ(seg->db, 1);
    }
}

TEST(EntryState, SegmentFromGdtDecodesEveryField) {
    kvm_segment s = segment_from_gdt(firmware::gdt_entry(0x40f3, 0x12345678, 0x0abcd), 0x2b);
    EXPECT_EQ(s.base, 0x12345678u);
    EXPECT_EQ(s.limit, 0x0abcdu);   // G clear: bytes
    EXPECT_EQ(s.selector, 0x2b);
    EXPECT_EQ(s.type, 0x3);
    EXPECT_EQ(s.dpl, 3);
    EXPECT_EQ(s.present, 1);
    EXPECT_EQ(s.db, 1);
    EXPECT_EQ(s.g, 0);
    EXPECT_EQ(s.unusable, 0);
    EXPECT_EQ(segment_from_gdt(0, 0).unusable, 1);
}

TEST(EntryState, ProtectedModeHasPagingOff) {
    kvm_sregs s{};
    s.cr0 = X86_CR0_PG | X86_CR0_PE;
    s.efer = EFER_LME;
    set_protected_mode_sregs(s);
    EXPECT_EQ(s.cr0, X86_CR0_PE | X86_CR0_ET);
    EXPECT_EQ(s.efer, 0u);
    EXPECT_EQ(s.cs.selector, 0x10);
    EXPECT_EQ(s.cs.db, 1);
    EXPECT_EQ(s.cs.l, 0);
    EXPECT_EQ(s.ss.selector, 0x18);
}

TEST(EntryState, BootMsrsEnableFastStringsAndWriteBackMtrrs) {
    auto msrs = boot_msrs();
    auto value = [&](uint32_t index) -> std::optional<uint64_t> {
        auto it = std::find_if(msrs.begin(), msrs.end(), [&](auto& e) { return e.index == index; });
        if (it == msrs.end()) return std::nullopt;
        return it->data;
    };
    EXPECT_EQ(value(MSR_IA32_MISC_ENABLE), MSR_IA32_MISC_ENABLE_FAST_STRING);
    EXPECT_EQ(value(MSR_MTRR_DEF_TYPE), MTRR_ENABLE | MTRR_TYPE_WRBACK);
    for (uint32_t zero : {MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
                          MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
                          MSR_IA32_TSC})
        EXPECT_EQ(value(zero), 0u) << std::hex << zero;
}

TEST(EntryState, LintPinsAreVirtualWire) {
    kvm_lapic_state lapic{};
    uint32_t masked = 0x0001'0000;   // the reset value: masked, fixed delivery
    std::memcpy(lapic.regs + APIC_LVT_LINT0, &masked, 4);
    std::memcpy(lapic.regs + APIC_LVT_LINT1, &masked, 4);
    lapic.regs[0x20] = 0x5a;         // an unrelated register (the APIC ID)
    set_lint_virtual_wire(lapic);
    uint32_t lint0, lint1;
    std::memcpy(&lint0, lapic.regs + APIC_LVT_LINT0, 4);
    std::memcpy(&lint1, lapic.regs + APIC_LVT_LINT1, 4);
    EXPECT_EQ(lint0, 0x0001'0700u);   // ExtINT, mask bit kept
    EXPECT_EQ(lint1, 0x0001'0400u);   // NMI
    EXPECT_EQ(lapic.regs[0x20], 0x5a);
}

TEST(EntryState, FpuHasResetControlWords) {
    kvm_fpu f = boot_fpu();
    EXPECT_EQ(f.fcw, 0x37f);
    EXPECT_EQ(f.mxcsr, 0x1f80u);
}

} // namespace
} // namespace minivmm
