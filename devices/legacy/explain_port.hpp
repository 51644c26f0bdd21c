// ExplainPort: a guest asks minivmm to explain one of its virtual addresses (the teaching demo
// `paging`). Eight ports: the GVA's low 32 bits at offset 0, its high 32 bits at offset 4; the
// write that fills the last byte (offset 7) hands the 64-bit GVA to the callback, on the vCPU
// thread that wrote it. Reads return 0.
#pragma once

#include <array>
#include <functional>

#include "bus/bus_device.hpp"

namespace minivmm {

class ExplainPort : public BusDevice {
public:
    static constexpr uint64_t PORT_COUNT = 8;
    using ExplainRequest = std::function<void(uint64_t gva)>;
    explicit ExplainPort(ExplainRequest on_explain) : on_explain_(std::move(on_explain)) {}

    void read(uint64_t offset, std::span<uint8_t> data) noexcept override;
    // Guest-controlled: any width at any offset; bytes past the 8 ports are dropped.
    void write(uint64_t offset, std::span<const uint8_t> data) noexcept override;

private:
    ExplainRequest on_explain_;
    // Only the vCPU thread of the demo writes it (the demos run on one vCPU).
    std::array<uint8_t, PORT_COUNT> latch_{};
};

} // namespace minivmm
