// The --trace-exits line for one exit: "vcpu0 IO out port=0x3f8 size=1 value=0x48 -> serial".
// Pure formatting, so the format is unit-tested without KVM.
#pragma once

#include <cstdint>
#include <string>

#include "kvm/vcpu_exit.hpp"

namespace minivmm {

// `device` is the handler's name or nullptr when nothing handled the access. For reads,
// call it after the device filled exit.data so the value shown is what the guest got.
std::string format_exit_trace(uint32_t vcpu, const VcpuExit& exit, const std::string* device);

// The little-endian value of `size` bytes at `data` (size <= 8).
uint64_t load_le(const uint8_t* data, uint32_t size);

} // namespace minivmm
