// I8042: a stub of the PC keyboard controller at ports 0x60 (data) and 0x64 (status/command),
// enough for Linux's i8042 probe (self test, control register, port tests, AUX loopback) and
// for its `reboot=k` path: command 0xFE (pulse the reset line) ends the VM as a reboot. No
// keyboard or mouse is attached: bytes for them are dropped and nothing answers; no IRQs.
// Reference: IBM PC/AT Technical Reference, 8042 commands; Linux drivers/input/serio/i8042.h.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "bus/bus_device.hpp"
#include "device_state.hpp"

namespace minivmm {

class I8042 final : public DeviceState {
public:
    using ResetRequest = std::function<void()>;
    static constexpr size_t OUTPUT_LIMIT = 16;   // queued replies; more are dropped

    explicit I8042(ResetRequest on_reset) : on_reset_(std::move(on_reset)) {}

    // The bus devices for the two 1-byte ports; they share this controller.
    static std::shared_ptr<BusDevice> data_port(std::shared_ptr<I8042> controller);
    static std::shared_ptr<BusDevice> command_port(std::shared_ptr<I8042> controller);

    // Guest-controlled values, any of 0-255.
    uint8_t read_data();
    void write_data(uint8_t value);
    uint8_t read_status();
    void write_command(uint8_t command);

    size_t queued();   // replies waiting in the output buffer (tests and the fuzz oracle)

    // State version 1: control register, output port, pending command, last write was a
    // command (u8 each), reply count (u8, at most OUTPUT_LIMIT), then each reply, oldest
    // first: value, aux (u8 0 or 1). A pending command must be one that takes a data byte.
    void save_state(StateWriter& out) const override;
    Result<void> restore_state(StateReader& in, uint16_t version) override;

private:
    void reply(uint8_t value, bool aux = false);

    ResetRequest on_reset_;
    mutable std::mutex mutex_;   // guards the fields below (vCPU threads); on_reset_ runs without it
    struct Reply {
        uint8_t value;
        bool aux;
    };
    std::array<Reply, OUTPUT_LIMIT> out_{};
    size_t out_head_ = 0;
    size_t out_count_ = 0;
    uint8_t ctr_ = 0x45;          // control register: keyboard IRQ enable, system flag, translate
    uint8_t output_port_ = 0x03;  // bit 0: reset line (active low), bit 1: A20 gate
    uint8_t pending_ = 0;         // a command waiting for its data byte, or 0
    bool last_was_command_ = false;
};

} // namespace minivmm
