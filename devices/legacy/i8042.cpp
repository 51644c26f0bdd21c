#include "legacy/i8042.hpp"

#include <algorithm>

namespace minivmm {

namespace {
// Status register bits.
constexpr uint8_t STATUS_OBF = 0x01;      // output buffer full: a byte waits at 0x60
constexpr uint8_t STATUS_SYS = 0x04;      // system flag (mirrors the control register's)
constexpr uint8_t STATUS_CMD = 0x08;      // the last write went to the command port
constexpr uint8_t STATUS_UNLOCK = 0x10;   // keyboard not inhibited
constexpr uint8_t STATUS_AUX = 0x20;      // the waiting byte comes from the AUX port
// Control register bits.
constexpr uint8_t CTR_SYS = 0x04;
constexpr uint8_t CTR_KBD_DISABLE = 0x10;
constexpr uint8_t CTR_AUX_DISABLE = 0x20;
// Commands (Linux's I8042_CMD_* names in comments).
constexpr uint8_t CMD_READ_CTR = 0x20;        // CTL_RCTR; 0x21-0x3f read other RAM bytes
constexpr uint8_t CMD_WRITE_CTR = 0x60;       // CTL_WCTR; 0x61-0x7f write other RAM bytes
constexpr uint8_t CMD_AUX_DISABLE = 0xa7;
constexpr uint8_t CMD_AUX_ENABLE = 0xa8;
constexpr uint8_t CMD_AUX_TEST = 0xa9;
constexpr uint8_t CMD_SELF_TEST = 0xaa;       // CTL_TEST: answers 0x55
constexpr uint8_t CMD_KBD_TEST = 0xab;
constexpr uint8_t CMD_KBD_DISABLE = 0xad;
constexpr uint8_t CMD_KBD_ENABLE = 0xae;
constexpr uint8_t CMD_READ_INPUT = 0xc0;
constexpr uint8_t CMD_READ_OUTPUT = 0xd0;
constexpr uint8_t CMD_WRITE_OUTPUT = 0xd1;    // bit 0 clear resets the CPU
constexpr uint8_t CMD_KBD_LOOP = 0xd2;        // the next data byte comes back as keyboard data
constexpr uint8_t CMD_AUX_LOOP = 0xd3;        // ... as AUX data
constexpr uint8_t CMD_AUX_SEND = 0xd4;        // the next data byte goes to the (absent) mouse
constexpr uint8_t CMD_PULSE_FIRST = 0xf0;     // 0xf0-0xff pulse output lines; bit 0 clear = reset
constexpr uint8_t PENDING_DROP = 0x61;       // a pending write whose data byte is dropped
constexpr uint8_t SELF_TEST_OK = 0x55;
constexpr uint8_t PORT_TEST_OK = 0x00;

class Port final : public BusDevice {
public:
    Port(std::shared_ptr<I8042> c, bool command) : c_(std::move(c)), command_(command) {}
    void read(uint64_t, std::span<uint8_t> data) noexcept override {
        std::fill(data.begin(), data.end(), uint8_t{0});
        data[0] = command_ ? c_->read_status() : c_->read_data();
    }
    void write(uint64_t, std::span<const uint8_t> data) noexcept override {
        if (command_)
            c_->write_command(data[0]);
        else
            c_->write_data(data[0]);
    }

private:
    std::shared_ptr<I8042> c_;
    bool command_;
};
} // namespace

std::shared_ptr<BusDevice> I8042::data_port(std::shared_ptr<I8042> controller) {
    return std::make_shared<Port>(std::move(controller), false);
}

std::shared_ptr<BusDevice> I8042::command_port(std::shared_ptr<I8042> controller) {
    return std::make_shared<Port>(std::move(controller), true);
}

void I8042::reply(uint8_t value, bool aux) {
    if (out_count_ == OUTPUT_LIMIT) return;   // a guest that never reads: drop, stay bounded
    out_[(out_head_ + out_count_) % OUTPUT_LIMIT] = {value, aux};
    ++out_count_;
}

uint8_t I8042::read_data() {
    std::lock_guard lock(mutex_);
    if (out_count_ == 0) return 0;   // no byte waiting: the old one, which we do not keep
    const uint8_t value = out_[out_head_].value;
    out_head_ = (out_head_ + 1) % OUTPUT_LIMIT;
    --out_count_;
    return value;
}

uint8_t I8042::read_status() {
    std::lock_guard lock(mutex_);
    uint8_t status = STATUS_UNLOCK;
    if (out_count_ > 0) {
        status |= STATUS_OBF;
        if (out_[out_head_].aux) status |= STATUS_AUX;
    }
    if (ctr_ & CTR_SYS) status |= STATUS_SYS;
    if (last_was_command_) status |= STATUS_CMD;
    return status;   // the input buffer is never full: IBF (bit 1) stays clear
}

void I8042::write_data(uint8_t value) {
    bool reset = false;
    {
        std::lock_guard lock(mutex_);
        last_was_command_ = false;
        const uint8_t command = pending_;
        pending_ = 0;
        switch (command) {
        case CMD_WRITE_CTR: ctr_ = value; break;
        case CMD_WRITE_OUTPUT:
            output_port_ = value;
            reset = (value & 0x01) == 0;   // the reset line is active low
            break;
        case CMD_KBD_LOOP: reply(value, false); break;
        case CMD_AUX_LOOP: reply(value, true); break;
        default: break;   // CMD_AUX_SEND, other RAM bytes, keyboard commands: no device
        }
    }
    if (reset) on_reset_();
}

void I8042::write_command(uint8_t command) {
    bool reset = false;
    {
        std::lock_guard lock(mutex_);
        last_was_command_ = true;
        pending_ = 0;
        if (command == CMD_READ_CTR) {
            reply(ctr_);
        } else if (command > CMD_READ_CTR && command < CMD_WRITE_CTR) {
            reply(0);   // other controller RAM bytes read as 0
        } else if (command >= CMD_WRITE_CTR && command < 0x80) {
            // RAM byte 0 is the control register; the next data byte for the others is dropped.
            pending_ = command == CMD_WRITE_CTR ? CMD_WRITE_CTR : PENDING_DROP;
        } else if (command >= CMD_PULSE_FIRST) {
            reset = (command & 0x01) == 0;   // 0xFE: pulse the reset line (Linux reboot=k)
        } else {
            switch (command) {
            case CMD_AUX_DISABLE: ctr_ |= CTR_AUX_DISABLE; break;
            case CMD_AUX_ENABLE: ctr_ &= static_cast<uint8_t>(~CTR_AUX_DISABLE); break;
            case CMD_AUX_TEST: reply(PORT_TEST_OK); break;
            case CMD_SELF_TEST:
                ctr_ |= CTR_SYS;
                reply(SELF_TEST_OK);
                break;
            case CMD_KBD_TEST: reply(PORT_TEST_OK); break;
            case CMD_KBD_DISABLE: ctr_ |= CTR_KBD_DISABLE; break;
            case CMD_KBD_ENABLE: ctr_ &= static_cast<uint8_t>(~CTR_KBD_DISABLE); break;
            case CMD_READ_INPUT: reply(0); break;
            case CMD_READ_OUTPUT: reply(output_port_); break;
            case CMD_WRITE_OUTPUT:
            case CMD_KBD_LOOP:
            case CMD_AUX_LOOP:
            case CMD_AUX_SEND: pending_ = command; break;
            default: break;   // unknown commands are ignored
            }
        }
    }
    if (reset) on_reset_();
}

size_t I8042::queued() {
    std::lock_guard lock(mutex_);
    return out_count_;
}

void I8042::save_state(StateWriter& out) const {
    std::lock_guard lock(mutex_);
    out.u8(ctr_);
    out.u8(output_port_);
    out.u8(pending_);
    out.u8(last_was_command_ ? 1 : 0);
    out.u8(static_cast<uint8_t>(out_count_));
    for (size_t i = 0; i < out_count_; ++i) {
        const Reply& r = out_[(out_head_ + i) % OUTPUT_LIMIT];
        out.u8(r.value);
        out.u8(r.aux ? 1 : 0);
    }
}

Result<void> I8042::restore_state(StateReader& in, uint16_t version) {
    const uint8_t ctr = in.u8(), output_port = in.u8(), pending = in.u8(), last = in.u8();
    const uint8_t count = in.u8();
    std::array<Reply, OUTPUT_LIMIT> replies{};
    bool valid = version == 1 && last <= 1 && count <= OUTPUT_LIMIT;
    for (size_t i = 0; valid && i < count; ++i) {
        replies[i].value = in.u8();
        const uint8_t aux = in.u8();
        valid = aux <= 1;
        replies[i].aux = aux == 1;
    }
    MINIVMM_TRY(in.finish("i8042 state"));
    switch (pending) {
    case 0: case CMD_WRITE_CTR: case PENDING_DROP: case CMD_WRITE_OUTPUT: case CMD_KBD_LOOP:
    case CMD_AUX_LOOP: case CMD_AUX_SEND: break;
    default: valid = false;
    }
    if (!valid)
        return Error(ErrorCode::Input, fmt::format("Saved i8042 state: version {}, pending {:#x}, "
                                                   "{} replies", version, pending, count));
    std::lock_guard lock(mutex_);
    ctr_ = ctr;
    output_port_ = output_port;
    pending_ = pending;
    last_was_command_ = last == 1;
    out_ = replies;
    out_head_ = 0;
    out_count_ = count;
    return {};
}

} // namespace minivmm
