#include "legacy/serial.hpp"

#include <fmt/format.h>

namespace minivmm {

namespace {
// Register offsets (DLAB = 0 unless noted).
constexpr uint64_t RBR_THR = 0;   // receive buffer / transmit holding; DLL when DLAB = 1
constexpr uint64_t IER = 1;       // interrupt enable; DLM when DLAB = 1
constexpr uint64_t IIR_FCR = 2;   // interrupt identification (read) / FIFO control (write)
constexpr uint64_t LCR = 3;
constexpr uint64_t MCR = 4;
constexpr uint64_t LSR = 5;
constexpr uint64_t MSR = 6;
constexpr uint64_t SCR = 7;

constexpr uint8_t LCR_DLAB = 0x80;
constexpr uint8_t MCR_LOOP = 0x10;
constexpr uint8_t LSR_DR = 0x01;     // data ready
constexpr uint8_t LSR_OE = 0x02;     // overrun error: a loopback byte found the FIFO full
constexpr uint8_t LSR_THRE = 0x20;   // transmit holding register empty
constexpr uint8_t LSR_TEMT = 0x40;   // transmitter empty
constexpr uint8_t IIR_NO_INT = 0x01;
constexpr uint8_t IIR_RLS = 0x06;    // receiver line status (highest priority)
constexpr uint8_t IIR_RDA = 0x04;    // received data available
constexpr uint8_t IIR_THRE = 0x02;   // transmit holding register empty
constexpr uint8_t IIR_FIFO = 0xc0;   // FIFOs enabled
constexpr uint8_t IER_RDA = 0x01;
constexpr uint8_t IER_THRE = 0x02;
constexpr uint8_t IER_RLS = 0x04;
constexpr uint8_t FCR_ENABLE = 0x01;
constexpr uint8_t FCR_CLEAR_RX = 0x02;
constexpr uint8_t MSR_DEFAULT = 0xb0;   // DCD, DSR, CTS asserted

// In loopback the modem inputs follow the outputs: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
uint8_t loopback_msr(uint8_t mcr) {
    return static_cast<uint8_t>(((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) | ((mcr & 0x0c) << 4));
}
} // namespace

void Serial16550::read(uint64_t offset, std::span<uint8_t> data) noexcept {
    std::lock_guard lock(mutex_);
    data[0] = read_reg(offset);
    for (size_t i = 1; i < data.size(); ++i) data[i] = 0;
    update_irq();
}

void Serial16550::write(uint64_t offset, std::span<const uint8_t> data) noexcept {
    std::lock_guard lock(mutex_);
    write_reg(offset, data[0]);
    update_irq();
}

// §8.6, Table 4: the highest-priority pending interrupt among those IER enables.
uint8_t Serial16550::iir() const {
    const uint8_t fifo = (fcr_ & FCR_ENABLE) ? IIR_FIFO : 0;
    if ((ier_ & IER_RLS) && (lsr_errors_ & LSR_OE)) return fifo | IIR_RLS;
    if ((ier_ & IER_RDA) && rx_count_ > 0) return fifo | IIR_RDA;
    if ((ier_ & IER_THRE) && thr_pending_) return fifo | IIR_THRE;
    return fifo | IIR_NO_INT;
}

void Serial16550::update_irq() {
    const bool high = (iir() & IIR_NO_INT) == 0;
    if (high == irq_high_) return;   // one KVM_IRQ_LINE per transition, not per access
    irq_high_ = high;
    irq_->set_level(high);
}

void Serial16550::rx_push(uint8_t b) {
    rx_[(rx_head_ + rx_count_) % RX_FIFO_LIMIT] = b;
    ++rx_count_;
}

uint8_t Serial16550::rx_pop() {
    const uint8_t b = rx_[rx_head_];
    rx_head_ = (rx_head_ + 1) % RX_FIFO_LIMIT;
    --rx_count_;
    if (space_wanted_ && rx_count_ <= RX_RESUME_LEVEL) {
        space_wanted_ = false;
        if (space_callback_) space_callback_();
    }
    return b;
}

uint8_t Serial16550::read_reg(uint64_t offset) {
    const bool dlab = (lcr_ & LCR_DLAB) != 0;
    switch (offset) {
    case RBR_THR:
        if (dlab) return dll_;
        return rx_count_ > 0 ? rx_pop() : 0;
    case IER: return dlab ? dlm_ : ier_;
    case IIR_FCR: {
        const uint8_t value = iir();
        // Reading IIR while it reports THR empty acknowledges that interrupt (§8.6).
        if ((value & 0x0f) == IIR_THRE) thr_pending_ = false;
        return value;
    }
    case LCR: return lcr_;
    case MCR: return mcr_;
    case LSR: {
        const uint8_t value =
            static_cast<uint8_t>(LSR_THRE | LSR_TEMT | lsr_errors_ | (rx_count_ > 0 ? LSR_DR : 0));
        lsr_errors_ = 0;   // error bits clear when LSR is read
        return value;
    }
    case MSR: return (mcr_ & MCR_LOOP) ? loopback_msr(mcr_) : MSR_DEFAULT;
    case SCR: return scr_;
    default: return 0xff;
    }
}

void Serial16550::write_reg(uint64_t offset, uint8_t value) {
    const bool dlab = (lcr_ & LCR_DLAB) != 0;
    switch (offset) {
    case RBR_THR:
        if (dlab) {
            dll_ = value;
            break;
        }
        // The byte leaves at once: THRE drops for the write and rises again, so an enabled
        // THR-empty interrupt gives the line a fresh edge per byte.
        thr_pending_ = false;
        update_irq();
        if (mcr_ & MCR_LOOP) {
            // Loopback: what is sent comes back as input (Linux probes the UART this way).
            if (rx_count_ < RX_FIFO_LIMIT)
                rx_push(value);
            else
                lsr_errors_ |= LSR_OE;
        } else {
            sink_(value);
        }
        thr_pending_ = true;
        break;
    case IER:
        if (dlab) {
            dlm_ = value;
        } else {
            const uint8_t enabled = static_cast<uint8_t>(~ier_ & value & IER_THRE);
            ier_ = value & 0x0f;
            // Enabling the THR-empty interrupt while THR is empty (always) raises it; disabling
            // it drops it (as QEMU and Linux's THRE re-assertion test expect).
            if (enabled) thr_pending_ = true;
            if (!(ier_ & IER_THRE)) thr_pending_ = false;
        }
        break;
    case IIR_FCR:
        fcr_ = value;
        if (value & FCR_CLEAR_RX) {
            rx_head_ = rx_count_ = 0;
            if (space_wanted_) {
                space_wanted_ = false;
                if (space_callback_) space_callback_();
            }
        }
        break;
    case LCR: lcr_ = value; break;
    case MCR: mcr_ = value & 0x1f; break;
    case SCR: scr_ = value; break;
    default: break;   // LSR and MSR are read-only
    }
}

size_t Serial16550::push_input(std::span<const uint8_t> bytes) {
    std::lock_guard lock(mutex_);
    size_t accepted = 0;
    for (uint8_t b : bytes) {
        if (rx_count_ >= RX_FIFO_LIMIT) break;
        rx_push(b);
        ++accepted;
    }
    update_irq();
    return accepted;
}

size_t Serial16550::input_space() {
    std::lock_guard lock(mutex_);
    const size_t space = RX_FIFO_LIMIT - rx_count_;
    if (space == 0) space_wanted_ = true;
    return space;
}

void Serial16550::set_space_callback(SpaceCallback callback) {
    std::lock_guard lock(mutex_);
    space_callback_ = std::move(callback);
}

size_t Serial16550::rx_level() {
    std::lock_guard lock(mutex_);
    return rx_count_;
}

bool Serial16550::irq_level() {
    std::lock_guard lock(mutex_);
    return irq_high_;
}

uint8_t Serial16550::peek_iir() {
    std::lock_guard lock(mutex_);
    return iir();
}

std::string Serial16550::describe() {
    std::lock_guard lock(mutex_);
    std::string enabled;
    if (ier_ & IER_RDA) enabled += " rx";
    if (ier_ & IER_THRE) enabled += " tx";
    if (ier_ & IER_RLS) enabled += " line";
    const uint8_t id = iir();
    const char* pending = "none";
    switch (id & 0x0f) {
    case IIR_RLS: pending = "line status"; break;
    case IIR_RDA: pending = "rx data"; break;
    case IIR_THRE: pending = "tx empty"; break;
    default: break;
    }
    return fmt::format("ier {:#04x} ({}), interrupt pending: {}, receive FIFO {} bytes, irq {}",
                       ier_, enabled.empty() ? "none enabled" : enabled.substr(1), pending,
                       rx_count_, irq_high_ ? "high" : "low");
}

void Serial16550::save_state(StateWriter& out) const {
    std::lock_guard lock(mutex_);
    for (uint8_t r : {ier_, lcr_, mcr_, scr_, dll_, dlm_, fcr_, lsr_errors_}) out.u8(r);
    out.u8(thr_pending_ ? 1 : 0);
    out.u16(static_cast<uint16_t>(rx_count_));
    for (size_t i = 0; i < rx_count_; ++i) out.u8(rx_[(rx_head_ + i) % RX_FIFO_LIMIT]);
}

Result<void> Serial16550::restore_state(StateReader& in, uint16_t version) {
    uint8_t r[8];
    for (uint8_t& v : r) v = in.u8();
    const uint8_t thr = in.u8();
    const uint16_t count = in.u16();
    std::array<uint8_t, RX_FIFO_LIMIT> rx{};
    const bool valid = version == 1 && (r[0] & ~0x0f) == 0 && (r[2] & ~0x1f) == 0 &&
                       (r[7] & ~LSR_OE) == 0 && thr <= 1 && count <= RX_FIFO_LIMIT;
    for (size_t i = 0; valid && i < count; ++i) rx[i] = in.u8();
    if (!valid) return Error(ErrorCode::Input, "Saved state: the UART's state is out of range");
    MINIVMM_TRY(in.finish("UART state"));
    std::lock_guard lock(mutex_);
    ier_ = r[0], lcr_ = r[1], mcr_ = r[2], scr_ = r[3], dll_ = r[4], dlm_ = r[5], fcr_ = r[6];
    lsr_errors_ = r[7];
    thr_pending_ = thr == 1;
    rx_ = rx;
    rx_head_ = 0;
    rx_count_ = count;
    update_irq();
    return {};
}

} // namespace minivmm
