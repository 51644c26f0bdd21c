// Small helpers shared by the benchmark programs in tools/bench.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <dirent.h>
#include <fstream>
#include <string>
#include <sys/types.h>
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

// vCPU threads: minivmm's "vcpuN", QEMU's "CPU N/KVM" (-name debug-threads=on).
inline bool is_vcpu_thread(const std::string& comm) {
    return comm.rfind("vcpu", 0) == 0 || comm.find("/KVM") != std::string::npos;
}

// Host CPU seconds of a process's threads: its vCPU threads and all the others. The CPU per
// request of every table in tools/bench comes from two of these (the difference between the
// guest's start line and its result line, divided by the requests), beside the raw loop's
// thread_cpu_seconds().
struct ProcessCpu {
    double vcpu = 0, other = 0;
    double all() const { return vcpu + other; }
    ProcessCpu operator-(const ProcessCpu& before) const {
        return {vcpu - before.vcpu, other - before.other};
    }
};

// Sums the first field of every TASK_DIR/TID/schedstat (nanoseconds on a CPU), split by each
// thread's TASK_DIR/TID/comm. A thread gone between two samples takes its time with it (the
// VMMs' threads live as long as the guest's loop); a missing directory gives zero.
inline ProcessCpu process_cpu(const std::string& task_dir) {
    ProcessCpu r;
    DIR* d = ::opendir(task_dir.c_str());
    if (!d) return r;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::string comm, t = task_dir + "/" + e->d_name;
        std::getline(std::ifstream(t + "/comm"), comm);
        double ns = 0;
        if (!(std::ifstream(t + "/schedstat") >> ns)) continue;
        (is_vcpu_thread(comm) ? r.vcpu : r.other) += ns / 1e9;
    }
    ::closedir(d);
    return r;
}

// Process `pid`'s threads, and the kernel's vhost workers that serve it: kernel threads named
// "vhost-PID" before Linux 6.4 (since then they are threads of the process, counted above).
inline ProcessCpu process_cpu(pid_t pid) {
    ProcessCpu r = process_cpu("/proc/" + std::to_string(pid) + "/task");
    const std::string worker = "vhost-" + std::to_string(pid);
    DIR* d = ::opendir("/proc");
    if (!d) return r;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        const std::string dir = std::string("/proc/") + e->d_name;
        std::string comm;
        std::getline(std::ifstream(dir + "/comm"), comm);
        double ns = 0;
        if (comm == worker && std::ifstream(dir + "/schedstat") >> ns) r.other += ns / 1e9;
    }
    ::closedir(d);
    return r;
}

// The calling thread's CPU seconds (the raw loops').
inline double thread_cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// A table cell of CPU per request in µs: "all [besides the vCPU]", medians of per-run values
// (seconds per request); "n/a" without samples. The raw loop has no vCPU: its cell is one
// figure.
inline std::string cpu_cell(const std::vector<double>& all, const std::vector<double>& other) {
    if (all.empty()) return "n/a";
    char buf[64];
    if (other.empty())
        std::snprintf(buf, sizeof buf, "%.2f", median(all) * 1e6);
    else
        std::snprintf(buf, sizeof buf, "%.2f [%.2f]", median(all) * 1e6, median(other) * 1e6);
    return buf;
}

} // namespace bench
