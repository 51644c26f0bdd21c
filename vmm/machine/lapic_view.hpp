// What a local APIC is doing, decoded from KVM_GET_LAPIC's register page (Intel SDM vol. 3,
// §11.4-11.8: ISR/IRR/TMR at 0x100/0x200/0x180, LVT timer at 0x320, initial and current
// count at 0x380/0x390). Pure decoding, unit-tested without KVM.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <linux/kvm.h>

namespace minivmm {

struct LapicView {
    enum class TimerMode { OneShot, Periodic, TscDeadline, Reserved };
    uint32_t id = 0;                  // xAPIC ID (bits 24-31 of the ID register)
    bool software_enabled = false;    // SVR bit 8
    uint32_t tpr = 0;
    uint32_t ppr = 0;
    std::vector<uint8_t> irr;         // requested vectors (pending), ascending
    std::vector<uint8_t> isr;         // in service (delivered, no EOI yet), ascending
    uint8_t timer_vector = 0;
    bool timer_masked = true;
    TimerMode timer_mode = TimerMode::OneShot;
    uint32_t timer_initial = 0;       // TMICT
    uint32_t timer_current = 0;       // TMCCT
    uint32_t timer_divide = 0;        // TDCR, raw
    uint32_t lint0 = 0;
    uint32_t lint1 = 0;
};

LapicView decode_lapic(const kvm_lapic_state& state);

// One line, e.g. "lapic 0: tpr 0, irr {}, isr {0xec}, timer tsc-deadline vector 0xec,
// fires in 1200 us". `tsc` and `deadline` (MSRs 0x10 and 0x6e0) and `tsc_khz` give the
// TSC-deadline timer's remaining time when known.
std::string describe_lapic(const LapicView& lapic, std::optional<uint64_t> tsc,
                           std::optional<uint64_t> deadline, std::optional<uint32_t> tsc_khz);

} // namespace minivmm
