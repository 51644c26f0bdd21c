#include "legacy/serial.hpp"

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
constexpr uint8_t LSR_THRE = 0x20;   // transmit holding register empty
constexpr uint8_t LSR_TEMT = 0x40;   // transmitter empty
constexpr uint8_t IIR_NO_INT = 0x01;
constexpr uint8_t IIR_RDA = 0x04;    // received data available
constexpr uint8_t IIR_THRE = 0x02;   // transmit holding register empty
constexpr uint8_t IIR_FIFO = 0xc0;   // FIFOs enabled
constexpr uint8_t IER_RDA = 0x01;
constexpr uint8_t IER_THRE = 0x02;
constexpr uint8_t MSR_DEFAULT = 0xb0;   // DCD, DSR, CTS asserted

// In loopback the modem inputs follow the outputs: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
uint8_t loopback_msr(uint8_t mcr) {
    return static_cast<uint8_t>(((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) | ((mcr & 0x0c) << 4));
}
} // namespace

void Serial16550::read(uint64_t offset, std::span<uint8_t> data) noexcept {
    // Wider accesses read the byte register and zero-fill the rest.
    std::lock_guard lock(mutex_);
    data[0] = read_reg(offset);
    for (size_t i = 1; i < data.size(); ++i) data[i] = 0;
}

void Serial16550::write(uint64_t offset, std::span<const uint8_t> data) noexcept {
    std::lock_guard lock(mutex_);
    write_reg(offset, data[0]);
}

uint8_t Serial16550::read_reg(uint64_t offset) {
    bool dlab = (lcr_ & LCR_DLAB) != 0;
    switch (offset) {
    case RBR_THR: {
        if (dlab) return dll_;
        if (rx_.empty()) return 0;
        uint8_t b = rx_.front();
        rx_.pop_front();
        return b;
    }
    case IER: return dlab ? dlm_ : ier_;
    case IIR_FCR: {
        uint8_t fifo = (fcr_ & 1) ? IIR_FIFO : 0;
        if ((ier_ & IER_RDA) && !rx_.empty()) return fifo | IIR_RDA;
        if (ier_ & IER_THRE) return fifo | IIR_THRE;
        return fifo | IIR_NO_INT;
    }
    case LCR: return lcr_;
    case MCR: return mcr_;
    case LSR: return static_cast<uint8_t>(LSR_THRE | LSR_TEMT | (rx_.empty() ? 0 : LSR_DR));
    case MSR: return (mcr_ & MCR_LOOP) ? loopback_msr(mcr_) : MSR_DEFAULT;
    case SCR: return scr_;
    default: return 0xff;
    }
}

void Serial16550::write_reg(uint64_t offset, uint8_t value) {
    bool dlab = (lcr_ & LCR_DLAB) != 0;
    switch (offset) {
    case RBR_THR:
        if (dlab) {
            dll_ = value;
        } else if (mcr_ & MCR_LOOP) {
            // Loopback: what is sent comes back as input (Linux probes the UART this way).
            if (rx_.size() < RX_FIFO_LIMIT) rx_.push_back(value);
        } else {
            sink_(value);
        }
        break;
    case IER:
        if (dlab)
            dlm_ = value;
        else
            ier_ = value & 0x0f;
        break;
    case IIR_FCR:
        fcr_ = value;
        if (value & 0x02) rx_.clear();   // reset receive FIFO
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
        if (rx_.size() >= RX_FIFO_LIMIT) break;
        rx_.push_back(b);
        ++accepted;
    }
    return accepted;
}

} // namespace minivmm
