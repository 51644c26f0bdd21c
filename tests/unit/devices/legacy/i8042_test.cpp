// Unit tests for I8042 (devices/legacy/i8042.hpp): the controller commands Linux's i8042 probe
// uses, through the two bus ports as a guest sees them, and the reset command.
#include "legacy/i8042.hpp"

#include <array>
#include <vector>

#include <gtest/gtest.h>

#include "bus/bus.hpp"

namespace minivmm {
namespace {

constexpr uint64_t DATA = 0x60, STATUS = 0x64;
constexpr uint8_t OBF = 0x01, IBF = 0x02, SYS = 0x04, CMD = 0x08, AUX = 0x20;

struct Controller {
    Controller() {
        EXPECT_TRUE(bus.insert({DATA, 1}, I8042::data_port(dev), "i8042-data").has_value());
        EXPECT_TRUE(bus.insert({STATUS, 1}, I8042::command_port(dev), "i8042-cmd").has_value());
    }
    uint8_t in(uint64_t port) {
        std::array<uint8_t, 1> b{0xee};
        bus.read(port, b);
        return b[0];
    }
    void out(uint64_t port, uint8_t value) {
        const std::array<uint8_t, 1> b{value};
        bus.write(port, b);
    }
    // Sends a command and returns the reply byte, checking OBF was set for it.
    uint8_t command(uint8_t cmd) {
        out(STATUS, cmd);
        EXPECT_NE(in(STATUS) & OBF, 0) << "no reply to command " << int(cmd);
        return in(DATA);
    }

    int resets = 0;
    std::shared_ptr<I8042> dev = std::make_shared<I8042>([this] { ++resets; });
    Bus bus{"port-I/O"};
};

TEST(I8042, StatusIdleHasNoOutputAndEmptyInputBuffer) {
    Controller c;
    const uint8_t status = c.in(STATUS);
    EXPECT_EQ(status & (OBF | IBF), 0);
    EXPECT_NE(status, 0xff) << "Linux takes 0xff as 'no controller'";
}

TEST(I8042, SelfTestAnswers55AndSetsSystemFlag) {
    Controller c;
    EXPECT_EQ(c.command(0xaa), 0x55);
    EXPECT_NE(c.in(STATUS) & SYS, 0);
    EXPECT_EQ(c.in(STATUS) & OBF, 0);
}

TEST(I8042, ControlRegisterReadWrite) {
    Controller c;
    c.out(STATUS, 0x60);
    EXPECT_NE(c.in(STATUS) & CMD, 0) << "last write was a command";
    c.out(DATA, 0x12);
    EXPECT_EQ(c.in(STATUS) & CMD, 0);
    EXPECT_EQ(c.command(0x20), 0x12);
}

TEST(I8042, PortEnableDisableCommandsEditControlRegister) {
    Controller c;
    c.out(STATUS, 0x60);
    c.out(DATA, 0x00);
    c.out(STATUS, 0xad);   // disable keyboard
    c.out(STATUS, 0xa7);   // disable AUX
    EXPECT_EQ(c.command(0x20), 0x30);
    c.out(STATUS, 0xae);
    c.out(STATUS, 0xa8);
    EXPECT_EQ(c.command(0x20), 0x00);
}

TEST(I8042, PortTestsPass) {
    Controller c;
    EXPECT_EQ(c.command(0xab), 0x00);
    EXPECT_EQ(c.command(0xa9), 0x00);
}

TEST(I8042, AuxLoopbackReturnsByteAsAuxData) {
    Controller c;
    c.out(STATUS, 0xd3);
    c.out(DATA, 0x5a);
    const uint8_t status = c.in(STATUS);
    EXPECT_EQ(status & (OBF | AUX), OBF | AUX);
    EXPECT_EQ(c.in(DATA), 0x5a);
    c.out(STATUS, 0xd2);
    c.out(DATA, 0xa5);
    EXPECT_EQ(c.in(STATUS) & (OBF | AUX), OBF);
    EXPECT_EQ(c.in(DATA), 0xa5);
}

TEST(I8042, KeyboardBytesGoNowhere) {
    Controller c;
    c.out(DATA, 0xff);   // keyboard reset: no keyboard answers
    c.out(STATUS, 0xd4);
    c.out(DATA, 0xf2);   // mouse identify: no mouse answers
    EXPECT_EQ(c.in(STATUS) & OBF, 0);
    EXPECT_EQ(c.resets, 0);
}

TEST(I8042, OutputBufferIsBounded) {
    Controller c;
    for (int i = 0; i < 100; ++i) c.out(STATUS, 0xaa);
    EXPECT_EQ(c.dev->queued(), I8042::OUTPUT_LIMIT);
    for (size_t i = 0; i < I8042::OUTPUT_LIMIT; ++i) EXPECT_EQ(c.in(DATA), 0x55);
    EXPECT_EQ(c.in(STATUS) & OBF, 0);
    EXPECT_EQ(c.in(DATA), 0x00);
}

TEST(I8042, ResetCommandRequestsReboot) {
    Controller c;
    c.out(STATUS, 0xfe);
    EXPECT_EQ(c.resets, 1);
}

TEST(I8042, PulseCommandsWithResetBitSetDoNotReset) {
    Controller c;
    for (int cmd : {0xff, 0xf1, 0xfd}) c.out(STATUS, static_cast<uint8_t>(cmd));
    EXPECT_EQ(c.resets, 0);
    c.out(STATUS, 0xf0);
    EXPECT_EQ(c.resets, 1) << "0xf0 pulses every line, reset included";
}

TEST(I8042, OutputPortWriteWithResetLineLowResets) {
    Controller c;
    EXPECT_EQ(c.command(0xd0) & 0x01, 0x01) << "reset line idle high";
    c.out(STATUS, 0xd1);
    c.out(DATA, 0x03);
    EXPECT_EQ(c.resets, 0);
    c.out(STATUS, 0xd1);
    c.out(DATA, 0x02);
    EXPECT_EQ(c.resets, 1);
}

TEST(I8042, ResetValueOnDataPortAloneDoesNotReset) {
    Controller c;
    c.out(DATA, 0xfe);
    EXPECT_EQ(c.resets, 0);
}

TEST(I8042, WideAccessesAreUnhandledByTheBus) {
    Controller c;
    std::array<uint8_t, 2> word{0xfe, 0xfe};
    EXPECT_FALSE(c.bus.write(STATUS, word).handled);
    EXPECT_EQ(c.resets, 0);
    std::array<uint8_t, 4> dword{};
    EXPECT_FALSE(c.bus.read(DATA, dword).handled);
    EXPECT_EQ(dword, (std::array<uint8_t, 4>{0xff, 0xff, 0xff, 0xff}));
}

TEST(I8042, UnknownCommandsAreIgnored) {
    Controller c;
    for (int cmd = 0x80; cmd < 0xa0; ++cmd) c.out(STATUS, static_cast<uint8_t>(cmd));
    EXPECT_EQ(c.in(STATUS) & OBF, 0);
    EXPECT_EQ(c.resets, 0);
}

} // namespace
} // namespace minivmm
