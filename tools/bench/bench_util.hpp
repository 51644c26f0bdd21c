// Small helpers shared by the benchmark programs in tools/bench.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>
#include <x86intrin.h>

namespace bench {

// CLOCK_MONOTONIC in seconds.
inline double now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Host TSC ticks per second against the monotonic clock over `seconds`.
inline double tsc_hz(double seconds) {
    double t0 = now();
    uint64_t c0 = __rdtsc();
    while (now() - t0 < seconds) {
    }
    uint64_t c1 = __rdtsc();
    return static_cast<double>(c1 - c0) / (now() - t0);
}

// The 1- and 5-minute load averages, as "1.23 4.56".
inline std::string load_average() {
    std::ifstream f("/proc/loadavg");
    std::string one, five;
    f >> one >> five;
    return one + " " + five;
}

inline double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Turns IPv6 off in the current (private) network namespace, so no autoconfiguration chatter
// crosses the tap: only the benchmark's own frames do.
inline void disable_ipv6() {
    for (const char* knob : {"/proc/sys/net/ipv6/conf/all/disable_ipv6",
                             "/proc/sys/net/ipv6/conf/default/disable_ipv6"})
        if (FILE* f = std::fopen(knob, "w")) {
            std::fputs("1", f);
            std::fclose(f);
        }
}

} // namespace bench
