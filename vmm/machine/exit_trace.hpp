// The --trace-exits line for one exit: "vcpu0 IO out port=0x3f8 size=1 value=0x48 -> serial".
// Pure formatting, so the format is unit-tested without KVM.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "kvm/vcpu_exit.hpp"

namespace minivmm {

// `device` is the handler's name or nullptr when nothing handled the access. For reads,
// call it after the device filled exit.data so the value shown is what the guest got.
std::string format_exit_trace(uint32_t vcpu, const VcpuExit& exit, const std::string* device);

// The last exits of one vCPU, kept always (a copy of a few words per exit), printed when the
// vCPU ends the VM with a fatal exit: on AMD SVM a triple fault leaves the registers in their
// reset state, and what the guest last asked of its devices is then the only trace of where
// it was. Used by the vCPU's own thread only.
class ExitHistory {
public:
    static constexpr size_t kSize = 16;
    void record(const VcpuExit& exit, const std::string* device, uint64_t ms);
    // "last N exits of vcpuV, oldest first:" then one --trace-exits line each, with its time
    // relative to `now_ms`; empty when nothing was recorded.
    std::string format(uint32_t vcpu, uint64_t now_ms) const;

private:
    struct Entry {
        VcpuExit exit;                   // its data pointer is cleared; the bytes are below
        std::array<uint8_t, 8> data{};   // the first access's bytes (I/O and MMIO)
        const std::string* device = nullptr;
        uint64_t ms = 0;
    };
    std::array<Entry, kSize> ring_{};
    uint64_t count_ = 0;
};

// The little-endian value of `size` bytes at `data` (size <= 8).
uint64_t load_le(const uint8_t* data, uint32_t size);

} // namespace minivmm
