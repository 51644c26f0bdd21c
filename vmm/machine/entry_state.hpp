// The register state each kind of guest starts in, as pure functions on KVM's register structs
// (so they are tested without /dev/kvm): the 64-bit Linux boot protocol entry (boot.rst,
// "64-bit Boot Protocol"), the PVH / demo 32-bit entry (Xen docs/misc/pvh.pandoc), and the MSR
// and FPU values Linux expects at boot (as Firecracker and Cloud Hypervisor set them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <linux/kvm.h>
#include <vector>

#include "long_mode_tables.hpp"

namespace minivmm {

// A KVM segment register loaded from GDT descriptor `desc` with `selector`.
kvm_segment segment_from_gdt(uint64_t desc, uint16_t selector);

// Long mode with paging: CR0 PE|PG (and ET), CR4 PAE, EFER LME|LMA, CR3 = the PML4, the GDT
// loaded, CS = __BOOT_CS (L=1), DS/ES/FS/GS/SS = __BOOT_DS.
void set_long_mode_sregs(kvm_sregs& sregs, const firmware::LongModeTables& tables);
// 32-bit protected mode, paging off, flat 4 GiB code (0x10) and data (0x18) segments.
void set_protected_mode_sregs(kvm_sregs& sregs);

// MSRs Linux expects at boot: IA32_MISC_ENABLE with fast strings, the SYSENTER/SYSCALL MSRs and
// KERNEL_GS_BASE zeroed, the TSC at 0, and MTRRs enabled with write-back as the default type.
std::vector<kvm_msr_entry> boot_msrs();
// x87 control word 0x37f and MXCSR 0x1f80: the FNINIT / reset values.
kvm_fpu boot_fpu();

// The local APIC's LINT pins in "virtual wire" mode, as a PC BIOS leaves them (Intel MP spec
// §3.6.2.2): LVT LINT0 = ExtINT (the 8259's output), LVT LINT1 = NMI.
void set_lint_virtual_wire(kvm_lapic_state& lapic);
constexpr size_t APIC_LVT_LINT0 = 0x350;
constexpr size_t APIC_LVT_LINT1 = 0x360;
constexpr uint32_t APIC_DELIVERY_MODE_MASK = 0x700;
constexpr uint32_t APIC_MODE_NMI = 0x400;
constexpr uint32_t APIC_MODE_EXTINT = 0x700;

// MSR numbers (Intel SDM vol. 4), spelled as arch/x86/include/asm/msr-index.h does.
constexpr uint32_t MSR_IA32_SYSENTER_CS = 0x174;
constexpr uint32_t MSR_IA32_SYSENTER_ESP = 0x175;
constexpr uint32_t MSR_IA32_SYSENTER_EIP = 0x176;
constexpr uint32_t MSR_IA32_TSC = 0x10;
constexpr uint32_t MSR_IA32_MISC_ENABLE = 0x1a0;
constexpr uint64_t MSR_IA32_MISC_ENABLE_FAST_STRING = 1;
constexpr uint32_t MSR_MTRR_DEF_TYPE = 0x2ff;
constexpr uint64_t MTRR_ENABLE = 1ULL << 11;
constexpr uint64_t MTRR_TYPE_WRBACK = 6;
constexpr uint32_t MSR_STAR = 0xc000'0081;
constexpr uint32_t MSR_LSTAR = 0xc000'0082;
constexpr uint32_t MSR_CSTAR = 0xc000'0083;
constexpr uint32_t MSR_SYSCALL_MASK = 0xc000'0084;
constexpr uint32_t MSR_KERNEL_GS_BASE = 0xc000'0102;

// Control register bits.
constexpr uint64_t X86_CR0_PE = 1ULL << 0;
constexpr uint64_t X86_CR0_ET = 1ULL << 4;
constexpr uint64_t X86_CR0_PG = 1ULL << 31;
constexpr uint64_t X86_CR4_PAE = 1ULL << 5;
constexpr uint64_t EFER_LME = 1ULL << 8;
constexpr uint64_t EFER_LMA = 1ULL << 10;

} // namespace minivmm
