// decode_lapic / describe_lapic on hand-filled KVM_GET_LAPIC register pages.
#include "machine/lapic_view.hpp"

#include <cstring>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

void set(kvm_lapic_state& s, size_t offset, uint32_t v) { std::memcpy(s.regs + offset, &v, 4); }

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(LapicView, DecodesIdPrioritiesAndTheVectorRegisters) {
    kvm_lapic_state s{};
    set(s, 0x20, 3u << 24);            // ID 3
    set(s, 0xf0, 0x1ff);               // software enabled
    set(s, 0x80, 0x10);                // TPR
    set(s, 0xa0, 0x20);                // PPR
    set(s, 0x200 + 7 * 0x10, 1u << 12);   // IRR: vector 0xec
    set(s, 0x200 + 1 * 0x10, 1u << 16);   // IRR: vector 0x30
    set(s, 0x100 + 7 * 0x10, 1u << 31);   // ISR: vector 0xff
    LapicView v = decode_lapic(s);
    EXPECT_EQ(v.id, 3u);
    EXPECT_TRUE(v.software_enabled);
    EXPECT_EQ(v.tpr, 0x10u);
    EXPECT_EQ(v.ppr, 0x20u);
    EXPECT_EQ(v.irr, (std::vector<uint8_t>{0x30, 0xec}));
    EXPECT_EQ(v.isr, (std::vector<uint8_t>{0xff}));
    std::string text = describe_lapic(v, std::nullopt, std::nullopt, std::nullopt);
    EXPECT_TRUE(has(text, "lapic 3: tpr 0x10 ppr 0x20")) << text;
    EXPECT_TRUE(has(text, "pending (irr) {0x30 0xec}")) << text;
    EXPECT_TRUE(has(text, "in service (isr) {0xff}")) << text;
}

TEST(LapicView, DescribesEachTimerMode) {
    kvm_lapic_state s{};
    set(s, 0x320, 0xec | (1u << 17));   // periodic, vector 0xec, unmasked
    set(s, 0x380, 250000);
    set(s, 0x390, 1234);
    set(s, 0x3e0, 0x3);
    std::string periodic = describe_lapic(decode_lapic(s), {}, {}, {});
    EXPECT_TRUE(has(periodic, "timer vector 0xec periodic, count 1234 of 250000")) << periodic;

    set(s, 0x320, 0xec | (2u << 17));   // TSC deadline
    std::string dl = describe_lapic(decode_lapic(s), 1000u, 3'001'000u, 2'000'000u);
    EXPECT_TRUE(has(dl, "tsc-deadline, fires in 1500 us")) << dl;   // 3e6 cycles at 2 GHz
    EXPECT_TRUE(has(describe_lapic(decode_lapic(s), 5000u, 4000u, 2'000'000u), "deadline passed"));
    EXPECT_TRUE(has(describe_lapic(decode_lapic(s), 5000u, 0u, 2'000'000u), "not armed"));
    EXPECT_TRUE(has(describe_lapic(decode_lapic(s), {}, {}, {}), "deadline unknown"));

    set(s, 0x320, 0xef | (1u << 16));   // one-shot, masked, not armed
    set(s, 0x380, 0);
    std::string masked = describe_lapic(decode_lapic(s), {}, {}, {});
    EXPECT_TRUE(has(masked, "timer vector 0xef masked one-shot, not armed")) << masked;
}

TEST(LapicView, NamesTheLocalInterruptPins) {
    kvm_lapic_state s{};
    set(s, 0x350, 0x700 | (1u << 16));   // LINT0 ExtINT, masked
    set(s, 0x360, 0x400);                // LINT1 NMI
    std::string text = describe_lapic(decode_lapic(s), {}, {}, {});
    EXPECT_TRUE(has(text, "lint0 extint masked, lint1 nmi")) << text;
    EXPECT_TRUE(has(text, "(software-disabled)")) << text;
}

} // namespace
} // namespace minivmm
