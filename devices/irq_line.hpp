// IrqLine: how a device raises its interrupt without knowing KVM (device code never includes a
// KVM header: docs/architecture.md). The machine gives each device its own line: an irqfd for
// trigger(), the KVM_IRQ_LINE ioctl for set_level(); tests use a counting fake (tests/support).
#pragma once

namespace minivmm {

class IrqLine {
public:
    virtual ~IrqLine() = default;
    // Edge style: one interrupt now (a virtio used-buffer or config-change notification).
    // Callable from any thread.
    virtual void trigger() noexcept = 0;
    // Level style: drive the line high or low (the 16550's INTR output follows its IIR).
    virtual void set_level(bool high) noexcept = 0;
};

// A line wired to nothing: for machines without an interrupt controller (the demo guests,
// which poll their devices).
class NoIrqLine final : public IrqLine {
public:
    void trigger() noexcept override {}
    void set_level(bool) noexcept override {}
};

} // namespace minivmm
