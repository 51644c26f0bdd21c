// Unit tests for I8042 (devices/legacy/i8042.hpp): the controller commands Linux's i8042 probe
// uses, through the two bus ports as a guest sees them, and the reset command.
#include "legacy/i8042.hpp"

#include <array>
#include <vector>

#include <gtest/gtest.h>

#include "base/state_reader.hpp"
#include "base/state_writer.hpp"
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

// Saved mid-conversation (replies queued, the AUX port disabled, a CTR write waiting for its
// data byte) and restored into a fresh controller, which carries on the same conversation.
TEST(I8042, StateRoundTripsIntoAFreshControllerWhichCarriesOn) {
    Controller a;
    a.out(STATUS, 0xa7);   // AUX disable
    a.out(STATUS, 0xaa);   // self test: 0x55 queued
    a.out(STATUS, 0xd3);   // AUX loop: the next data byte comes back as AUX data
    a.out(DATA, 0x42);
    a.out(STATUS, 0x60);   // CTR write, its data byte still to come
    StateWriter w;
    a.dev->save_state(w);
    const auto bytes = w.take();
    Controller b;
    StateReader r(bytes);
    ASSERT_TRUE(b.dev->restore_state(r, 1));
    StateWriter again;
    b.dev->save_state(again);
    EXPECT_EQ(again.bytes(), bytes);
    EXPECT_EQ(b.dev->queued(), 2u);
    EXPECT_EQ(b.in(STATUS) & (OBF | CMD | SYS), OBF | CMD | SYS);
    EXPECT_EQ(b.in(DATA), 0x55);
    EXPECT_EQ(b.in(STATUS) & AUX, AUX);
    EXPECT_EQ(b.in(DATA), 0x42);
    b.out(DATA, 0x07);    // the pending CTR write takes it
    EXPECT_EQ(b.command(0x20), 0x07);
}

TEST(I8042, RestoreRefusesImpossibleStates) {
    const std::vector<std::pair<const char*, std::vector<uint8_t>>> cases = {
        {"truncated", {0x45, 0x03, 0x00, 0x00}},
        {"too many replies", {0x45, 0x03, 0x00, 0x00, 17}},
        {"aux flag 2", {0x45, 0x03, 0x00, 0x00, 1, 0x55, 2}},
        {"pending 0xa8 takes no data", {0x45, 0x03, 0xa8, 0x00, 0}},
        {"last-was-command 3", {0x45, 0x03, 0x00, 3, 0}},
        {"bytes left over", {0x45, 0x03, 0x00, 0x00, 0, 9}},
    };
    for (const auto& [what, bytes] : cases) {
        Controller c;
        StateReader r(bytes);
        EXPECT_FALSE(c.dev->restore_state(r, 1)) << what;
        EXPECT_EQ(c.dev->queued(), 0u) << what;
    }
    Controller c;
    const std::vector<uint8_t> good = {0x45, 0x03, 0x00, 0x00, 0};
    StateReader v2(good);
    EXPECT_FALSE(c.dev->restore_state(v2, 2)) << "a version this build does not know";
}

} // namespace
} // namespace minivmm
