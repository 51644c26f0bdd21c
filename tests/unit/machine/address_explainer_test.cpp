// format_explanation: each line of the walk from facts given by hand (no KVM).
#include "machine/address_explainer.hpp"

#include <gtest/gtest.h>

namespace minivmm {
namespace {

AddressExplanation four_level() {
    AddressExplanation e;
    e.gva = 0x7f12'3456'79a0ULL;
    e.regs = {(1ULL << 31) | 1, 0x101000, 1ULL << 5, (1ULL << 8) | (1ULL << 10), 46};
    e.walk.steps = {{4, 0x101000, 254, 0x108007, false},
                    {3, 0x108000, 72, 0x109007, false},
                    {2, 0x109000, 418, 0x10a007, false},
                    {1, 0x10a000, 359, 0xabc067, true}};
    e.walk.gpa = 0xabc9a0;
    e.walk.page_size = 4096;
    e.kvm = KvmTranslation{true, 0xabc9a0};
    e.slot = MemorySlot{0, 0, 16 << 20, 0x7f00'0000'0000ULL, false, false};
    e.hpa = uint64_t{0x1234'59a0};
    e.bytes = {'h', 'i', 0};
    return e;
}

TEST(AddressExplanation, FullWalkLineByLine) {
    EXPECT_EQ(format_explanation(four_level()),
              "minivmm: explain GVA 0x7f12345679a0 (vcpu0)\n"
              "  CR3 0x101000: the PML4 (CR0.PG 1, CR4.PAE 1, CR4.LA57 0, EFER.LMA 1, EFER.NXE 0)\n"
              "  PML4[254] at GPA 0x1017f0: 0x0000000000108007 P W U          -> PDPT at GPA 0x108000\n"
              "  PDPT[ 72] at GPA 0x108240: 0x0000000000109007 P W U          -> PD at GPA 0x109000\n"
              "  PD  [418] at GPA 0x109d10: 0x000000000010a007 P W U          -> PT at GPA 0x10a000\n"
              "  PT  [359] at GPA 0x10ab38: 0x0000000000abc067 P W U A D      -> 4 KiB page at GPA 0xabc000\n"
              "  GPA 0xabc9a0 (page offset 0x9a0; user, writable, executable)\n"
              "  KVM_TRANSLATE: GPA 0xabc9a0: agrees\n"
              "  memory slot 0: GPA 0x0-0xffffff at HVA 0x7f0000000000; offset 0xabc9a0 in it\n"
              "  HVA 0x7f0000abc9a0 (minivmm's address of the byte)\n"
              "  HPA 0x123459a0 (host page frame 0x12345, from /proc/self/pagemap)\n"
              "  read through the HVA: 68 69 00 \"hi.\"\n");
}

TEST(AddressExplanation, DisagreementAndMissingHpaAreSaid) {
    AddressExplanation e = four_level();
    e.kvm = KvmTranslation{true, 0x5000};
    e.hpa = std::string("no pagemap");
    std::string t = format_explanation(e);
    EXPECT_NE(t.find("KVM_TRANSLATE: GPA 0x5000: DISAGREES"), std::string::npos);
    EXPECT_NE(t.find("  HPA not shown: no pagemap\n"), std::string::npos);
}

TEST(AddressExplanation, StoppedWalkEndsBeforeTheSlot) {
    AddressExplanation e = four_level();
    e.walk.steps.resize(2);
    e.walk.gpa.reset();
    e.walk.stopped = "PD entry at GPA 0x700000510 is outside guest RAM";
    e.kvm = KvmTranslation{};
    std::string t = format_explanation(e);
    EXPECT_NE(t.find("  walk stopped: PD entry at GPA 0x700000510 is outside guest RAM\n"),
              std::string::npos);
    EXPECT_NE(t.find("KVM_TRANSLATE: no translation, as above\n"), std::string::npos);
    EXPECT_EQ(t.find("memory slot"), std::string::npos);
}

TEST(AddressExplanation, GpaOutsideEverySlotIsMmio) {
    AddressExplanation e = four_level();
    e.slot.reset();
    EXPECT_NE(format_explanation(e).find("none holds this GPA: not RAM"), std::string::npos);
}

} // namespace
} // namespace minivmm
