// format_vcpu_state: the report lines of one vCPU, from a hand-filled VcpuState.
#include "machine/vcpu_state.hpp"

#include <cstring>
#include <string_view>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

VcpuState long_mode_state() {
    VcpuState st;
    st.index = 1;
    st.mp_state = KVM_MP_STATE_HALTED;
    st.regs.rip = 0xffffffff81a00011;
    st.regs.rsp = 0xffffc90000003e98;
    st.regs.rflags = 0x2;   // interrupts off
    st.sregs.cr0 = 1;       // PE
    st.sregs.efer = 1u << 10;   // LMA
    st.sregs.cs.l = 1;
    st.activity.in_kvm_run = true;
    st.activity.exits = 42;
    st.activity.last_exit_reason = KVM_EXIT_MMIO;
    st.activity.since_last_exit_ms = 12300;
    return st;
}

TEST(VcpuState, SaysWhereTheVcpuIsAndWhatItLastDid) {
    auto map = SymbolTable::from_system_map("ffffffff81a00000 T default_idle\n");
    ASSERT_TRUE(map.has_value());
    std::string text = format_vcpu_state(long_mode_state(), *map);
    EXPECT_TRUE(has(text, "vcpu1: halted (HLT, waiting for an interrupt); in KVM_RUN; 42 exits, "
                          "the last (MMIO) 12.3 s ago\n")) << text;
    EXPECT_TRUE(has(text, "rip 0xffffffff81a00011 <default_idle+0x11> rsp 0xffffc90000003e98, "
                          "cpl 0, long mode (64-bit), rflags 0x2 (interrupts off)")) << text;
    EXPECT_FALSE(has(text, "lapic")) << "no in-kernel irqchip, no LAPIC line: " << text;
    EXPECT_TRUE(has(text, "events: none")) << text;
}

TEST(VcpuState, ReportsTheLapicAndPendingEvents) {
    VcpuState st = long_mode_state();
    st.lapic = kvm_lapic_state{};
    st.events.interrupt.injected = 1;
    st.events.interrupt.nr = 0xec;
    st.events.nmi.pending = 1;
    st.activity.in_kvm_run = false;
    std::string text = format_vcpu_state(st, SymbolTable{});
    EXPECT_TRUE(has(text, "in minivmm, handling an exit")) << text;
    EXPECT_TRUE(has(text, "\n  lapic 0 (software-disabled): tpr 0x0")) << text;
    EXPECT_TRUE(has(text, "events: interrupt 0xec being injected, NMI pending")) << text;
    EXPECT_TRUE(has(text, "rip 0xffffffff81a00011 rsp")) << "no symbols, no name: " << text;
}

TEST(VcpuState, NamesEveryCpuModeAndRunState) {
    kvm_sregs s{};
    EXPECT_EQ(cpu_mode_name(s), "real mode");
    s.cr0 = 1;
    s.cs.db = 1;
    EXPECT_EQ(cpu_mode_name(s), "protected mode (32-bit)");
    s.cs.db = 0;
    EXPECT_EQ(cpu_mode_name(s), "protected mode (16-bit)");
    s.efer = 1u << 10;
    EXPECT_EQ(cpu_mode_name(s), "compatibility mode (32-bit)");
    s.cs.l = 1;
    EXPECT_EQ(cpu_mode_name(s), "long mode (64-bit)");
    EXPECT_EQ(mp_state_name(KVM_MP_STATE_RUNNABLE), "runnable");
    EXPECT_EQ(mp_state_name(KVM_MP_STATE_UNINITIALIZED), "waiting for INIT/SIPI");
    EXPECT_EQ(mp_state_name(77), "mp_state 77");
}

TEST(VcpuState, AVcpuThatNeverExitedSaysForHowLong) {
    VcpuState st = long_mode_state();
    st.activity.exits = 0;
    st.activity.since_last_exit_ms = 2500;
    EXPECT_TRUE(has(format_vcpu_state(st, SymbolTable{}), "; no exit in 2.5 s\n"));
}

} // namespace
} // namespace minivmm
