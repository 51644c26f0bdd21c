// Entry register states; see entry_state.hpp.
#include "machine/entry_state.hpp"

#include <cstring>

namespace minivmm {

kvm_segment segment_from_gdt(uint64_t desc, uint16_t selector) {
    kvm_segment s{};
    s.base = ((desc >> 16) & 0xff'ffff) | (((desc >> 56) & 0xff) << 24);
    uint32_t limit = static_cast<uint32_t>((desc & 0xffff) | (((desc >> 48) & 0xf) << 16));
    s.g = static_cast<uint8_t>((desc >> 55) & 1);
    // With G set the limit counts 4 KiB pages; KVM wants it in bytes.
    s.limit = s.g ? (limit << 12) | 0xfff : limit;
    s.selector = selector;
    s.type = static_cast<uint8_t>((desc >> 40) & 0xf);
    s.s = static_cast<uint8_t>((desc >> 44) & 1);
    s.dpl = static_cast<uint8_t>((desc >> 45) & 3);
    s.present = static_cast<uint8_t>((desc >> 47) & 1);
    s.avl = static_cast<uint8_t>((desc >> 52) & 1);
    s.l = static_cast<uint8_t>((desc >> 53) & 1);
    s.db = static_cast<uint8_t>((desc >> 54) & 1);
    s.unusable = s.present ? 0 : 1;
    return s;
}

void set_long_mode_sregs(kvm_sregs& sregs, const firmware::LongModeTables& tables) {
    sregs.gdt.base = tables.gdt_base.value();
    sregs.gdt.limit = tables.gdt_limit;
    sregs.cs = segment_from_gdt(firmware::GDT_CODE64, firmware::BOOT_CS_SELECTOR);
    kvm_segment data = segment_from_gdt(firmware::GDT_DATA, firmware::BOOT_DS_SELECTOR);
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.cr3 = tables.cr3.value();
    sregs.cr4 |= X86_CR4_PAE;
    sregs.cr0 |= X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
    sregs.efer |= EFER_LME | EFER_LMA;
}

void set_protected_mode_sregs(kvm_sregs& sregs) {
    kvm_segment code{};
    code.base = 0;
    code.limit = 0xffffffff;
    code.selector = 0x10;
    code.type = 0xb;   // execute/read, accessed
    code.present = 1;
    code.s = 1;
    code.db = 1;
    code.g = 1;
    kvm_segment data = code;
    data.selector = 0x18;
    data.type = 0x3;   // read/write, accessed
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.cr0 = X86_CR0_PE | X86_CR0_ET;
    sregs.cr4 = 0;
    sregs.efer = 0;
}

std::vector<kvm_msr_entry> boot_msrs() {
    auto msr = [](uint32_t index, uint64_t data) {
        kvm_msr_entry e{};
        e.index = index;
        e.data = data;
        return e;
    };
    return {
        msr(MSR_IA32_SYSENTER_CS, 0),
        msr(MSR_IA32_SYSENTER_ESP, 0),
        msr(MSR_IA32_SYSENTER_EIP, 0),
        msr(MSR_STAR, 0),
        msr(MSR_CSTAR, 0),
        msr(MSR_KERNEL_GS_BASE, 0),
        msr(MSR_SYSCALL_MASK, 0),
        msr(MSR_LSTAR, 0),
        msr(MSR_IA32_TSC, 0),
        msr(MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE_FAST_STRING),
        msr(MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_TYPE_WRBACK),
    };
}

namespace {
uint32_t lapic_reg(const kvm_lapic_state& lapic, size_t offset) {
    uint32_t v;
    std::memcpy(&v, lapic.regs + offset, sizeof v);
    return v;
}
void set_lapic_reg(kvm_lapic_state& lapic, size_t offset, uint32_t v) {
    std::memcpy(lapic.regs + offset, &v, sizeof v);
}
} // namespace

void set_lint_virtual_wire(kvm_lapic_state& lapic) {
    uint32_t lint0 = lapic_reg(lapic, APIC_LVT_LINT0);
    set_lapic_reg(lapic, APIC_LVT_LINT0, (lint0 & ~APIC_DELIVERY_MODE_MASK) | APIC_MODE_EXTINT);
    uint32_t lint1 = lapic_reg(lapic, APIC_LVT_LINT1);
    set_lapic_reg(lapic, APIC_LVT_LINT1, (lint1 & ~APIC_DELIVERY_MODE_MASK) | APIC_MODE_NMI);
}

kvm_fpu boot_fpu() {
    kvm_fpu fpu{};
    fpu.fcw = 0x37f;
    fpu.mxcsr = 0x1f80;
    return fpu;
}

} // namespace minivmm
