#include "machine/exit_stats.hpp"

#include <fmt/format.h>

namespace minivmm {

namespace {
void add(ExitStats::Row& row, uint64_t run_ns, uint64_t handle_ns) {
    row.count += 1;
    row.run_ns += run_ns;
    row.handle_ns += handle_ns;
}

void add(ExitStats::Row& row, const ExitStats::Row& other) {
    row.count += other.count;
    row.run_ns += other.run_ns;
    row.handle_ns += other.handle_ns;
}

// The row for `name`, created on first use (the lookup itself does not allocate).
ExitStats::Row& row_for(ExitStats::Table& table, std::string_view name) {
    auto it = table.find(name);
    if (it == table.end()) it = table.emplace(std::string(name), ExitStats::Row{}).first;
    return it->second;
}

std::string format_rows(const char* title, const ExitStats::Table& rows) {
    std::string out = fmt::format("  {:<16} {:>10} {:>12} {:>12} {:>10}\n", title, "exits",
                                  "in KVM_RUN", "in minivmm", "us/exit");
    for (const auto& [name, r] : rows) {
        double per_exit = r.count ? static_cast<double>(r.run_ns + r.handle_ns) / 1e3 /
                                        static_cast<double>(r.count)
                                  : 0.0;
        out += fmt::format("  {:<16} {:>10} {:>10.3f}ms {:>10.3f}ms {:>10.2f}\n", name, r.count,
                           static_cast<double>(r.run_ns) / 1e6,
                           static_cast<double>(r.handle_ns) / 1e6, per_exit);
    }
    return out;
}
} // namespace

void ExitStats::record(std::string_view reason, std::string_view device, uint64_t run_ns,
                       uint64_t handle_ns) {
    add(row_for(by_reason_, reason), run_ns, handle_ns);
    if (!device.empty()) add(row_for(by_device_, device), run_ns, handle_ns);
}

void ExitStats::merge(const ExitStats& other) {
    for (const auto& [k, r] : other.by_reason_) add(row_for(by_reason_, k), r);
    for (const auto& [k, r] : other.by_device_) add(row_for(by_device_, k), r);
}

std::string ExitStats::format(double wall_seconds) const {
    uint64_t total = 0;
    for (const auto& [k, r] : by_reason_) total += r.count;
    std::string out = fmt::format("minivmm: exit statistics ({} exits in {:.3f} s)\n", total,
                                  wall_seconds);
    out += format_rows("by reason", by_reason_);
    if (!by_device_.empty()) out += format_rows("by device", by_device_);
    return out;
}

} // namespace minivmm
