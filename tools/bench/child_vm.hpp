// A VMM run as a child of a benchmark, its stdin and stdout pipes (the guest's COM1), its
// stderr /dev/null; killed when the object goes. Shared by the tools/bench programs that read
// a guest's result line and the CPU time of the VMM's threads.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <poll.h>
#include <sched.h>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "bench_util.hpp"

namespace bench {

inline double wall_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Pinning: the guest's vCPU thread on one CPU, every other thread of the VMM (and the raw
// loop of the benchmark) on another, for minivmm and QEMU alike. Unpinned, the scheduler of a
// busy 2-CPU host tends to wake the I/O thread on the CPU of the vCPU that notified it, and
// the two then take turns on one CPU for the rest of the run: that measures the scheduler.
struct Pin {
    int vcpu_cpu = 0, io_cpu = 1;
};

inline bool set_cpu(pid_t tid, int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<size_t>(cpu), &set);
    return ::sched_setaffinity(tid, sizeof set, &set) == 0;
}

// Moves the vCPU thread of process `pid` to its CPU as soon as it exists (the guest sets up
// for milliseconds first); gives up after 10 s.
inline void pin_vcpu_thread(pid_t pid, const Pin& pin) {
    const std::string dir = "/proc/" + std::to_string(pid) + "/task";
    for (double until = wall_seconds() + 10; wall_seconds() < until; ::usleep(50)) {
        DIR* d = ::opendir(dir.c_str());
        if (!d) return;
        bool done = false;
        while (dirent* e = ::readdir(d)) {
            std::string comm;
            std::getline(std::ifstream(dir + "/" + e->d_name + "/comm"), comm);
            if (e->d_name[0] != '.' && is_vcpu_thread(comm))
                done = set_cpu(static_cast<pid_t>(std::stol(e->d_name)), pin.vcpu_cpu);
        }
        ::closedir(d);
        if (done) return;
    }
}

// A VM as a child: stdin and stdout are pipes (the guest's COM1).
struct Vm {
    pid_t pid = -1;
    int in = -1, out = -1;
    std::string output;

    explicit Vm(const std::vector<std::string>& argv, std::optional<Pin> pin = std::nullopt) {
        int i[2], o[2];
        if (::pipe2(i, O_CLOEXEC) != 0 || ::pipe2(o, O_CLOEXEC) != 0) (std::perror("bench: pipe"), std::exit(1));
        pid = ::fork();
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);   // no VMM outlives a benchmark that died
            if (pin) set_cpu(0, pin->io_cpu);   // every thread starts there
            ::dup2(i[0], 0);
            ::dup2(o[1], 1);
            int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, 2);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        ::close(i[0]);
        ::close(o[1]);
        in = i[1];
        out = o[0];
        if (pin) pin_vcpu_thread(pid, *pin);
    }
    // Reads output until `needle` appears; false on end of output or after `seconds`.
    bool wait_for(const std::string& needle, double seconds) {
        double end = wall_seconds() + seconds;
        while (output.find(needle) == std::string::npos) {
            pollfd p{out, POLLIN, 0};
            int ms = static_cast<int>((end - wall_seconds()) * 1000);
            if (ms <= 0 || ::poll(&p, 1, ms) != 1) return false;
            char buf[4096];
            ssize_t n = ::read(out, buf, sizeof buf);
            if (n <= 0) return false;
            output.append(buf, static_cast<size_t>(n));
        }
        return true;
    }
    // CPU seconds so far of the vCPU threads and of all the others.
    ProcessCpu cpu() const { return process_cpu(pid); }
    // Waits for the VMM to end by itself and returns its wait status; the destructor then has
    // nothing left to kill.
    int wait() {
        int status = -1;
        ::waitpid(pid, &status, 0);
        pid = -1;
        return status;
    }
    // For a caller that reaped the VMM itself (waitpid(-1, ...)).
    void reaped() { pid = -1; }
    ~Vm() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        ::close(in);
        ::close(out);
    }
};

} // namespace bench
