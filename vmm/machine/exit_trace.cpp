#include "machine/exit_trace.hpp"

#include <algorithm>
#include <cstring>

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

void ExitHistory::record(const VcpuExit& exit, const std::string* device, uint64_t ms) {
    Entry& e = ring_[count_ % kSize];
    e.exit = exit;
    e.exit.data = nullptr;
    e.exit.internal_data = {};   // points into the kvm_run page, which the next exit rewrites
    e.data = {};
    if (exit.data != nullptr) std::memcpy(e.data.data(), exit.data, std::min<uint32_t>(exit.size, 8));
    e.device = device;
    e.ms = ms;
    ++count_;
}

std::string ExitHistory::format(uint32_t vcpu, uint64_t now_ms) const {
    if (count_ == 0) return {};
    uint64_t n = std::min<uint64_t>(count_, kSize);
    std::string s = fmt::format("last {} exits of vcpu{} (of {}), oldest first:", n, vcpu, count_);
    for (uint64_t i = count_ - n; i < count_; ++i) {
        const Entry& e = ring_[i % kSize];
        VcpuExit exit = e.exit;
        uint8_t data[8];
        std::memcpy(data, e.data.data(), sizeof data);
        if (exit.reason == ExitReason::Io || exit.reason == ExitReason::Mmio) exit.data = data;
        uint64_t ago = now_ms > e.ms ? now_ms - e.ms : 0;
        s += fmt::format("\n  -{} ms {}", ago, format_exit_trace(vcpu, exit, e.device));
    }
    return s;
}

} // namespace minivmm
