#include "machine/exit_trace.hpp"

#include <fmt/format.h>

namespace minivmm {

uint64_t load_le(const uint8_t* data, uint32_t size) {
    uint64_t v = 0;
    for (uint32_t i = 0; i < size && i < 8; ++i) v |= static_cast<uint64_t>(data[i]) << (8 * i);
    return v;
}

std::string format_exit_trace(uint32_t vcpu, const VcpuExit& exit, const std::string* device) {
    std::string_view name = exit_reason_name(exit.raw_reason);
    const char* target = device ? device->c_str() : "unhandled";
    switch (exit.reason) {
    case ExitReason::Io: {
        std::string rep = exit.count > 1 ? fmt::format(" count={}", exit.count) : "";
        return fmt::format("vcpu{} {} {} port={:#x} size={} value={:#x}{} -> {}", vcpu, name,
                           exit.is_write ? "out" : "in", exit.address, exit.size,
                           load_le(exit.data, exit.size), rep, target);
    }
    case ExitReason::Mmio:
        return fmt::format("vcpu{} {} {} addr={:#x} size={} value={:#x} -> {}", vcpu, name,
                           exit.is_write ? "write" : "read", exit.address, exit.size,
                           load_le(exit.data, exit.size), target);
    case ExitReason::InternalError:
        return fmt::format("vcpu{} {} suberror={}", vcpu, name, exit.suberror);
    case ExitReason::FailEntry:
        return fmt::format("vcpu{} {} reason={:#x}", vcpu, name, exit.fail_reason);
    case ExitReason::SystemEvent:
        return fmt::format("vcpu{} {} type={}", vcpu, name, exit.event_type);
    default: return fmt::format("vcpu{} {}", vcpu, name);
    }
}

} // namespace minivmm
