// Serial16550: the register file of a 16550A UART (COM1), enough for Linux's 8250 driver and
// for polled output from bare-metal guests. Output bytes go to a host sink; input bytes are
// queued by the host with push_input() into a bounded receive FIFO.
// Reference: TI/National PC16550D datasheet, registers at offsets 0-7.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <span>

#include "bus/bus_device.hpp"

namespace minivmm {

class Serial16550 : public BusDevice {
public:
    // Receives every byte the guest transmits, in order, on the vCPU thread.
    using OutputSink = std::function<void(uint8_t)>;
    static constexpr size_t RX_FIFO_LIMIT = 4096;   // host input beyond this is dropped

    explicit Serial16550(OutputSink sink) : sink_(std::move(sink)) {}

    void read(uint64_t offset, std::span<uint8_t> data) noexcept override;
    void write(uint64_t offset, std::span<const uint8_t> data) noexcept override;

    // Queues host input for the guest; returns how many bytes were accepted (the FIFO is bounded).
    size_t push_input(std::span<const uint8_t> bytes);

private:
    uint8_t read_reg(uint64_t offset);
    void write_reg(uint64_t offset, uint8_t value);

    OutputSink sink_;
    std::mutex mutex_;   // guards every field below (vCPU threads and the input thread)
    std::deque<uint8_t> rx_;
    uint8_t ier_ = 0;     // interrupt enable
    uint8_t lcr_ = 0;     // line control; bit 7 = DLAB selects the divisor latch
    uint8_t mcr_ = 0;     // modem control; bit 4 = loopback
    uint8_t scr_ = 0;     // scratch
    uint8_t dll_ = 0x0c;  // divisor latch low (9600 baud)
    uint8_t dlm_ = 0;     // divisor latch high
    uint8_t fcr_ = 0;     // FIFO control (write-only; bit 0 enables FIFOs)
};

} // namespace minivmm
