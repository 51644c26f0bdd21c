// CountingIrqLine: an IrqLine for device tests; counts triggers and remembers the level.
#pragma once

#include <atomic>

#include "irq_line.hpp"

namespace minivmm {

class CountingIrqLine : public IrqLine {
public:
    void trigger() noexcept override { triggers.fetch_add(1, std::memory_order_relaxed); }
    void set_level(bool high) noexcept override {
        if (high && !level.load(std::memory_order_relaxed))
            rising_edges.fetch_add(1, std::memory_order_relaxed);
        level.store(high, std::memory_order_relaxed);
    }

    std::atomic<unsigned> triggers{0};
    std::atomic<unsigned> rising_edges{0};
    std::atomic<bool> level{false};
};

} // namespace minivmm
