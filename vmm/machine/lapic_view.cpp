// Local APIC register page decoding; see lapic_view.hpp.
#include "machine/lapic_view.hpp"

#include <cstring>

#include <fmt/format.h>

namespace minivmm {

namespace {
constexpr size_t APIC_ID = 0x20, APIC_TPR = 0x80, APIC_PPR = 0xa0, APIC_SVR = 0xf0;
constexpr size_t APIC_ISR = 0x100, APIC_IRR = 0x200, APIC_LVTT = 0x320;
constexpr size_t APIC_LINT0 = 0x350, APIC_LINT1 = 0x360;
constexpr size_t APIC_TMICT = 0x380, APIC_TMCCT = 0x390, APIC_TDCR = 0x3e0;
constexpr uint32_t LVT_MASKED = 1u << 16;

uint32_t reg(const kvm_lapic_state& s, size_t offset) {
    uint32_t v;
    std::memcpy(&v, s.regs + offset, sizeof v);
    return v;
}

// The 256-bit vector register at `base` (8 registers, 16 bytes apart): its set bits.
std::vector<uint8_t> vectors(const kvm_lapic_state& s, size_t base) {
    std::vector<uint8_t> out;
    for (unsigned i = 0; i < 8; ++i) {
        uint32_t word = reg(s, base + i * 0x10);
        for (unsigned bit = 0; bit < 32; ++bit)
            if (word & (1u << bit)) out.push_back(static_cast<uint8_t>(i * 32 + bit));
    }
    return out;
}

std::string vector_list(const std::vector<uint8_t>& v) {
    std::string s = "{";
    for (size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{:#04x}", i ? " " : "", v[i]);
    return s + "}";
}

std::string lvt(uint32_t value) {
    static const char* const MODES[] = {"fixed", "lowest", "smi", "?", "nmi", "init", "?", "extint"};
    return fmt::format("{}{}", MODES[(value >> 8) & 7], value & LVT_MASKED ? " masked" : "");
}
} // namespace

LapicView decode_lapic(const kvm_lapic_state& state) {
    LapicView v;
    v.id = reg(state, APIC_ID) >> 24;
    v.software_enabled = (reg(state, APIC_SVR) & 0x100) != 0;
    v.tpr = reg(state, APIC_TPR) & 0xff;
    v.ppr = reg(state, APIC_PPR) & 0xff;
    v.irr = vectors(state, APIC_IRR);
    v.isr = vectors(state, APIC_ISR);
    uint32_t lvtt = reg(state, APIC_LVTT);
    v.timer_vector = static_cast<uint8_t>(lvtt & 0xff);
    v.timer_masked = (lvtt & LVT_MASKED) != 0;
    switch ((lvtt >> 17) & 3) {
    case 0: v.timer_mode = LapicView::TimerMode::OneShot; break;
    case 1: v.timer_mode = LapicView::TimerMode::Periodic; break;
    case 2: v.timer_mode = LapicView::TimerMode::TscDeadline; break;
    default: v.timer_mode = LapicView::TimerMode::Reserved; break;
    }
    v.timer_initial = reg(state, APIC_TMICT);
    v.timer_current = reg(state, APIC_TMCCT);
    v.timer_divide = reg(state, APIC_TDCR);
    v.lint0 = reg(state, APIC_LINT0);
    v.lint1 = reg(state, APIC_LINT1);
    return v;
}

std::string describe_lapic(const LapicView& l, std::optional<uint64_t> tsc,
                           std::optional<uint64_t> deadline, std::optional<uint32_t> tsc_khz) {
    std::string timer;
    switch (l.timer_mode) {
    case LapicView::TimerMode::TscDeadline:
        timer = "tsc-deadline";
        if (!deadline) timer += ", deadline unknown";
        else if (*deadline == 0) timer += ", not armed";
        else if (tsc && *deadline <= *tsc) timer += ", deadline passed";
        else if (tsc && tsc_khz && *tsc_khz > 0)
            timer += fmt::format(", fires in {} us", (*deadline - *tsc) * 1000 / *tsc_khz);
        else if (tsc) timer += fmt::format(", fires in {} TSC cycles", *deadline - *tsc);
        break;
    case LapicView::TimerMode::OneShot:
    case LapicView::TimerMode::Periodic:
        timer = l.timer_mode == LapicView::TimerMode::OneShot ? "one-shot" : "periodic";
        if (l.timer_initial == 0) timer += ", not armed";
        else timer += fmt::format(", count {} of {} (divide {:#x})", l.timer_current,
                                  l.timer_initial, l.timer_divide);
        break;
    case LapicView::TimerMode::Reserved: timer = "reserved mode"; break;
    }
    return fmt::format("lapic {}{}: tpr {:#x} ppr {:#x}, pending (irr) {}, in service (isr) {}, "
                       "timer vector {:#04x}{} {}; lint0 {}, lint1 {}",
                       l.id, l.software_enabled ? "" : " (software-disabled)", l.tpr, l.ppr,
                       vector_list(l.irr), vector_list(l.isr), l.timer_vector,
                       l.timer_masked ? " masked" : "", timer, lvt(l.lint0), lvt(l.lint1));
}

} // namespace minivmm
