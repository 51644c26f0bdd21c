// Serial16550: the register file of a 16550A UART (COM1), enough for Linux's 8250 driver and
// for polled output from bare-metal guests. Output bytes go to a host sink; host input is
// queued with push_input() into a bounded receive FIFO. The INTR output follows IIR through an
// IrqLine (level): received-data and transmitter-empty interrupts, as enabled in IER.
// Reference: TI/National PC16550D datasheet, registers at offsets 0-7, §8.6 (IIR priorities).
#pragma once

#include "device_state.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "bus/bus_device.hpp"
#include "irq_line.hpp"

namespace minivmm {

class Serial16550 : public BusDevice, public DeviceState {
public:
    // Receives every byte the guest transmits, in order, on a vCPU thread, with the UART's lock
    // held: it must not block (SerialOutputBuffer only appends to its buffer).
    using OutputSink = std::function<void(uint8_t)>;
    // Called (on a vCPU thread, lock held) when the guest has drained the receive FIFO down to
    // RX_RESUME_LEVEL after input_space() reported it full: the host may push again.
    using SpaceCallback = std::function<void()>;
    static constexpr size_t RX_FIFO_LIMIT = 1024;            // bytes the receive FIFO holds
    static constexpr size_t RX_RESUME_LEVEL = RX_FIFO_LIMIT / 2;

    Serial16550(OutputSink sink, std::shared_ptr<IrqLine> irq)
        : sink_(std::move(sink)), irq_(std::move(irq)) {}

    // Guest-controlled offset (0-7) and width: wider accesses use the low byte (writes) and
    // read the byte register zero-extended.
    void read(uint64_t offset, std::span<uint8_t> data) noexcept override;
    void write(uint64_t offset, std::span<const uint8_t> data) noexcept override;

    // Queues host input for the guest; returns how many bytes were accepted (the FIFO is
    // bounded: bytes beyond its space are refused, never buffered elsewhere).
    size_t push_input(std::span<const uint8_t> bytes);
    // Free space in the receive FIFO. When it is 0, the space callback is armed: it runs once
    // the guest has read the FIFO down to RX_RESUME_LEVEL (back-pressure for the host reader).
    size_t input_space();
    // Set before the vCPUs run, or with the device idle; nullptr disarms it.
    void set_space_callback(SpaceCallback callback);

    // For tests and the fuzz oracle: bytes in the receive FIFO, the INTR level last driven, and
    // IIR without the side effects of a guest read.
    size_t rx_level();
    bool irq_level();
    uint8_t peek_iir();
    // For hang reports: "ier 0x01 (rx), iir 0xc4 (rx data), receive FIFO 3 bytes, irq high".
    std::string describe();
    // DeviceState (snapshots): the registers, the pending THR-empty interrupt, the error bits
    // and the receive FIFO's bytes. Restore checks every value (reserved IER/MCR bits clear,
    // no LSR bit but OE, a FIFO no fuller than RX_FIFO_LIMIT) and then drives the line anew.
    void save_state(StateWriter& out) const override;
    Result<void> restore_state(StateReader& in, uint16_t version) override;

private:
    uint8_t read_reg(uint64_t offset);
    void write_reg(uint64_t offset, uint8_t value);
    uint8_t iir() const;
    void update_irq();
    void rx_push(uint8_t b);
    uint8_t rx_pop();

    OutputSink sink_;
    std::shared_ptr<IrqLine> irq_;
    // Guards every field below (vCPU threads, the I/O thread's input). Calls the sink, the IRQ
    // line and the space callback with it held; none of them takes it.
    mutable std::mutex mutex_;
    SpaceCallback space_callback_;
    bool space_wanted_ = false;     // input_space() returned 0: call space_callback_ on drain
    std::array<uint8_t, RX_FIFO_LIMIT> rx_{};   // ring buffer
    size_t rx_head_ = 0;            // index of the oldest byte
    size_t rx_count_ = 0;
    uint8_t lsr_errors_ = 0;        // LSR error bits (OE), cleared when LSR is read
    bool thr_pending_ = false;      // THR-empty interrupt pending (cleared by IIR read, THR write)
    bool irq_high_ = false;         // the level last driven on irq_
    uint8_t ier_ = 0;     // interrupt enable
    uint8_t lcr_ = 0;     // line control; bit 7 = DLAB selects the divisor latch
    uint8_t mcr_ = 0;     // modem control; bit 4 = loopback
    uint8_t scr_ = 0;     // scratch
    uint8_t dll_ = 0x0c;  // divisor latch low (9600 baud)
    uint8_t dlm_ = 0;     // divisor latch high
    uint8_t fcr_ = 0;     // FIFO control (write-only; bit 0 enables FIFOs)
};

} // namespace minivmm
