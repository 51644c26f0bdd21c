// pc_gsi_routing: the PIT's GSI 0 reaches IOAPIC pin 2, every other ISA GSI its own pin and the
// 8259 pair, GSIs 16-23 the IOAPIC only.
#include "kvm/gsi_routing.hpp"

#include <set>
#include <utility>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

std::set<std::pair<unsigned, unsigned>> routes_of(unsigned gsi) {
    std::set<std::pair<unsigned, unsigned>> out;   // (chip, pin)
    for (const auto& e : pc_gsi_routing()) {
        EXPECT_EQ(e.type, static_cast<unsigned>(KVM_IRQ_ROUTING_IRQCHIP));
        if (e.gsi == gsi) out.insert({e.u.irqchip.irqchip, e.u.irqchip.pin});
    }
    return out;
}

TEST(GsiRouting, ThePitsGsiZeroReachesIoapicPinTwo) {
    EXPECT_EQ(routes_of(0), (std::set<std::pair<unsigned, unsigned>>{
                                {KVM_IRQCHIP_PIC_MASTER, 0}, {KVM_IRQCHIP_IOAPIC, 2}}));
    EXPECT_TRUE(routes_of(2).empty());
}

TEST(GsiRouting, OtherGsisKeepTheirPins) {
    EXPECT_EQ(routes_of(4), (std::set<std::pair<unsigned, unsigned>>{
                                {KVM_IRQCHIP_PIC_MASTER, 4}, {KVM_IRQCHIP_IOAPIC, 4}}));
    EXPECT_EQ(routes_of(10), (std::set<std::pair<unsigned, unsigned>>{
                                 {KVM_IRQCHIP_PIC_SLAVE, 2}, {KVM_IRQCHIP_IOAPIC, 10}}));
    EXPECT_EQ(routes_of(23), (std::set<std::pair<unsigned, unsigned>>{{KVM_IRQCHIP_IOAPIC, 23}}));
    EXPECT_TRUE(routes_of(24).empty());
}

TEST(GsiRouting, NoIoapicPinIsDrivenByTwoGsis) {
    std::set<unsigned> pins;
    for (const auto& e : pc_gsi_routing())
        if (e.u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC) {
            EXPECT_TRUE(pins.insert(e.u.irqchip.pin).second) << "pin " << e.u.irqchip.pin;
        }
    EXPECT_EQ(pins.size(), 23u);
}

} // namespace
} // namespace minivmm
