// Unit tests for PciHostBridge (devices/legacy/pci_host_bridge.hpp): the accesses Linux's
// pci_check_type1/pci_sanity_check and a bus scan make, through the port bus.
#include "legacy/pci_host_bridge.hpp"

#include <cstring>
#include <memory>

#include <gtest/gtest.h>

#include "bus/bus.hpp"
#include "memory/layout.hpp"

namespace minivmm {
namespace {

class PciHostBridgeTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(pio_.insert({layout::PCI_CONFIG_PORT, PciHostBridge::PORT_COUNT},
                                std::make_shared<PciHostBridge>(), "pci-host"));
    }
    uint32_t in(uint16_t port, size_t size) {
        uint8_t b[4] = {};
        pio_.read(port, {b, size});
        uint32_t v = 0;
        std::memcpy(&v, b, size);
        return v;
    }
    void out(uint16_t port, uint32_t value, size_t size) {
        uint8_t b[4];
        std::memcpy(b, &value, 4);
        pio_.write(port, {b, size});
    }
    // Configuration register `reg` of bus 0, `devfn`, read as Linux's pci_conf1_read does.
    uint32_t config(uint32_t devfn, uint32_t reg, size_t size) {
        out(0xcf8, PciHostBridge::ADDRESS_ENABLE | devfn << 8 | (reg & 0xfc), 4);
        return in(static_cast<uint16_t>(0xcfc + (reg & 3)), size);
    }
    Bus pio_{"pio"};
};

TEST_F(PciHostBridgeTest, AddressRegisterReadsBackAsMechanism1Requires) {
    out(0xcfb, 0x01, 1);   // pci_check_type1 first writes this byte: ignored
    out(0xcf8, 0x8000'0000, 4);
    EXPECT_EQ(in(0xcf8, 4), 0x8000'0000u);
    // Mechanism #2's probe (byte writes and reads of 0xcf8/0xcfa) must fail.
    out(0xcf8, 0, 1);
    EXPECT_EQ(in(0xcf8, 1), 0xffu);
    EXPECT_EQ(in(0xcfa, 1), 0xffu);
}

TEST_F(PciHostBridgeTest, HostBridgeAt0000AndNothingElse) {
    EXPECT_EQ(config(0, 0x00, 2), PciHostBridge::VENDOR_ID);
    EXPECT_EQ(config(0, 0x02, 2), PciHostBridge::DEVICE_ID);
    EXPECT_EQ(config(0, 0x0a, 2), 0x0600u) << "PCI_CLASS_BRIDGE_HOST, what pci_sanity_check wants";
    EXPECT_EQ(config(0, 0x08, 4), PciHostBridge::CLASS_HOST_BRIDGE << 8);
    EXPECT_EQ(config(0, 0x0e, 1), 0u) << "header type 0, single function";
    EXPECT_EQ(config(0, 0xfc, 4), 0u);
    for (uint32_t devfn : {1u, 8u, 0xffu}) EXPECT_EQ(config(devfn, 0, 4), 0xffff'ffffu) << devfn;
    // Another bus, or the enable bit clear: all ones.
    out(0xcf8, PciHostBridge::ADDRESS_ENABLE | 1u << 16, 4);
    EXPECT_EQ(in(0xcfc, 4), 0xffff'ffffu);
    out(0xcf8, 0, 4);
    EXPECT_EQ(in(0xcfc, 4), 0xffff'ffffu);
}

TEST_F(PciHostBridgeTest, HeaderIsReadOnly) {
    out(0xcf8, PciHostBridge::ADDRESS_ENABLE | 0x10, 4);   // BAR0 sizing: write all ones
    out(0xcfc, 0xffff'ffff, 4);
    EXPECT_EQ(config(0, 0x10, 4), 0u) << "no BAR";
    out(0xcf8, PciHostBridge::ADDRESS_ENABLE | 0x04, 4);
    out(0xcfc, 0x7, 2);
    EXPECT_EQ(config(0, 0x04, 2), 0u) << "command register";
}

} // namespace
} // namespace minivmm
