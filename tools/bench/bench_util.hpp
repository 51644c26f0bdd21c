// Small helpers shared by the benchmark programs in tools/bench.
#pragma once

#include <algorithm>
#include <cstdio>
#include <vector>

namespace bench {

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
