// The footprint benchmark's measurements and its Markdown tables (tools/bench/footprint.cpp).
#pragma once

#include "bench_util.hpp"
#include "smaps.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bench {

enum class Vmm { Minivmm, Raw, Qemu };

inline const char* vmm_name(Vmm v) {
    return v == Vmm::Minivmm ? "minivmm" : v == Vmm::Raw ? "raw KVM loop" : "QEMU microvm";
}

// One idle VM with a disk and a net card: CPU as % of one CPU over the window, memory after it.
struct IdleRun {
    double vcpu_pct, other_pct;
    Smaps smaps;
    int threads;
};

// Many idle VMs side by side (kilobytes; pss: sums over the processes).
struct ManyRun {
    int vms = 0;
    double start_all = 0, mem_used_kb = 0;
    MemFigures pss, guest_pss;
};

struct Results {
    std::map<Vmm, std::vector<double>> first, exit;   // seconds
    std::map<Vmm, std::vector<IdleRun>> idle;
    std::map<std::pair<Vmm, size_t>, double> rate;    // VMs per second, by parallelism
    std::map<Vmm, ManyRun> many;
};

inline std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

// "median [min-max]" of xs, each scaled by `scale`, with printf format f.
inline std::string cell(std::vector<double> xs, double scale, const char* f) {
    if (xs.empty()) return "-";
    for (double& x : xs) x *= scale;
    auto [lo, hi] = std::minmax_element(xs.begin(), xs.end());
    return fmt(f, median(xs)) + " [" + fmt(f, *lo) + "-" + fmt(f, *hi) + "]";
}

inline double ratio(const std::vector<double>& a, const std::vector<double>& b) {
    return a.empty() || b.empty() ? 0 : median(a) / median(b);
}

inline std::string startup_table(const Results& r) {
    std::string t = "| VMM | exec to the guest's first instruction (ms) | exec to exit (ms) | "
                    "first / raw | exit / raw | first / QEMU | exit / QEMU |\n"
                    "|---|---|---|---|---|---|---|\n";
    for (Vmm v : {Vmm::Minivmm, Vmm::Raw, Vmm::Qemu}) {
        auto& f = r.first.at(v);
        auto& e = r.exit.at(v);
        t += std::string("| ") + vmm_name(v) + " | " + cell(f, 1e3, "%.2f") + " | " +
             cell(e, 1e3, "%.2f") + " | " + fmt("%.2f", ratio(f, r.first.at(Vmm::Raw))) + " | " +
             fmt("%.2f", ratio(e, r.exit.at(Vmm::Raw))) + " | " +
             fmt("%.3f", ratio(f, r.first.at(Vmm::Qemu))) + " | " +
             fmt("%.3f", ratio(e, r.exit.at(Vmm::Qemu))) + " |\n";
    }
    return t;
}

inline std::string idle_table(const Results& r) {
    using Get = std::function<double(const IdleRun&)>;
    auto row = [&](const std::string& what, Get get, double scale, const char* f) {
        std::vector<double> m, q;
        for (auto& x : r.idle.at(Vmm::Minivmm)) m.push_back(get(x));
        for (auto& x : r.idle.at(Vmm::Qemu)) q.push_back(get(x));
        return "| " + what + " | " + cell(m, scale, f) + " | " + cell(q, scale, f) + " | " +
               fmt("%.3f", ratio(m, q)) + " |\n";
    };
    const double mib = 1.0 / 1024;
    return "| figure | minivmm | QEMU microvm | minivmm / QEMU |\n|---|---|---|---|\n" +
           row("RSS of the process (MiB)", [](auto& x) { return double(x.smaps.total.rss); },
               mib, "%.2f") +
           row("RSS of the guest RAM mapping: guest pages touched (MiB)",
               [](auto& x) { return double(x.smaps.guest.rss); }, mib, "%.2f") +
           row("**RSS minus guest RAM** (MiB)", [](auto& x) { return double(x.smaps.own().rss); },
               mib, "%.2f") +
           row("Private_Clean + Private_Dirty minus guest RAM (MiB)",
               [](auto& x) { return double(x.smaps.own().private_kb); }, mib, "%.2f") +
           row("Anonymous minus guest RAM (MiB)",
               [](auto& x) { return double(x.smaps.own().anonymous); }, mib, "%.2f") +
           row("Pss minus guest RAM (MiB)", [](auto& x) { return double(x.smaps.own().pss); },
               mib, "%.2f") +
           row("threads", [](auto& x) { return double(x.threads); }, 1, "%.0f") +
           row("**idle CPU, all threads (% of one CPU)**",
               [](auto& x) { return x.vcpu_pct + x.other_pct; }, 1, "%.3f") +
           row("of which vCPU threads", [](auto& x) { return x.vcpu_pct; }, 1, "%.3f") +
           row("of which the other threads", [](auto& x) { return x.other_pct; }, 1, "%.3f");
}

// The mappings besides guest RAM of the last idle run, largest RSS first.
inline std::string where_table(const Results& r, Vmm v, size_t top) {
    const Smaps& s = r.idle.at(v).back().smaps;
    std::vector<std::pair<std::string, MemFigures>> rows(s.by_name.begin(), s.by_name.end());
    std::sort(rows.begin(), rows.end(),
              [](auto& a, auto& b) { return a.second.rss > b.second.rss; });
    std::string t = std::string("| ") + vmm_name(v) +
                    ": mapping | RSS (KiB) | Private (KiB) | Anonymous (KiB) |\n|---|---|---|---|\n";
    MemFigures rest;
    for (size_t i = 0; i < rows.size(); ++i) {
        auto& [name, m] = rows[i];
        if (i >= top) {
            rest.add(m);
            continue;
        }
        t += "| " + name + " | " + std::to_string(m.rss) + " | " + std::to_string(m.private_kb) +
             " | " + std::to_string(m.anonymous) + " |\n";
    }
    if (rows.size() > top)
        t += "| the other " + std::to_string(rows.size() - top) + " | " +
             std::to_string(rest.rss) + " | " + std::to_string(rest.private_kb) + " | " +
             std::to_string(rest.anonymous) + " |\n";
    return t;
}

inline std::string many_table(const Results& r, int cycles) {
    auto rate = [&](Vmm v, size_t p) { return r.rate.at({v, p}); };
    std::string t = "| figure | minivmm | QEMU microvm | raw KVM loop | minivmm / QEMU |\n"
                    "|---|---|---|---|---|\n";
    for (size_t p : {1u, 2u})
        t += "| VMs started and stopped per second, " + std::string(p == 1 ? "one" : "two") +
             " at a time (" + std::to_string(cycles) + " VMs) | " +
             fmt("%.1f", rate(Vmm::Minivmm, p)) + " | " + fmt("%.1f", rate(Vmm::Qemu, p)) +
             " | " + fmt("%.1f", rate(Vmm::Raw, p)) + " | " +
             fmt("%.2f", rate(Vmm::Minivmm, p) / rate(Vmm::Qemu, p)) + " |\n";
    const ManyRun &m = r.many.at(Vmm::Minivmm), &q = r.many.at(Vmm::Qemu);
    auto row = [&](const std::string& what, double a, double b, const char* f) {
        t += "| " + what + " | " + fmt(f, a) + " | " + fmt(f, b) + " | - | " +
             fmt("%.3f", a / b) + " |\n";
    };
    const double nm = m.vms, nq = q.vms, mib = 1.0 / 1024;
    t += "| idle VMs side by side | " + std::to_string(m.vms) + " | " + std::to_string(q.vms) +
         " | - | - |\n";
    row("idle VMs: started one after the other, each to IDLE-READY, per VM (s)",
        m.start_all / nm, q.start_all / nq, "%.2f");
    row("idle VMs: MemAvailable drop, per VM (MiB)", m.mem_used_kb / nm * mib,
        q.mem_used_kb / nq * mib, "%.2f");
    row("idle VMs: Pss of the VMM processes, per VM (MiB)", double(m.pss.pss) / nm * mib,
        double(q.pss.pss) / nq * mib, "%.2f");
    row("of which guest RAM (pages the guest touched), per VM (MiB)",
        double(m.guest_pss.pss) / nm * mib, double(q.guest_pss.pss) / nq * mib, "%.2f");
    row("of which the VMM's own (Pss minus guest RAM), per VM (MiB)",
        double(m.pss.pss - m.guest_pss.pss) / nm * mib,
        double(q.pss.pss - q.guest_pss.pss) / nq * mib, "%.2f");
    row("RSS minus guest RAM, per VM (MiB)", double(m.pss.rss - m.guest_pss.rss) / nm * mib,
        double(q.pss.rss - q.guest_pss.rss) / nq * mib, "%.2f");
    return t;
}

// The tables of the parts measured so far (the benchmark saves after each part).
inline std::string report(int cycles, const Results& r) {
    std::string t;
    if (r.first.size() == 3) t += "### Start-up\n\n" + startup_table(r);
    if (r.idle.size() == 2)
        t += "\n### Idle VM with a disk and a net card\n\n" + idle_table(r) + "\n" +
             where_table(r, Vmm::Minivmm, 12) + "\n" + where_table(r, Vmm::Qemu, 8);
    if (r.many.size() == 2) t += "\n### Many VMs\n\n" + many_table(r, cycles);
    return t;
}

} // namespace bench
