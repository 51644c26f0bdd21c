// boot_time: Linux boot time under minivmm and under QEMU microvm, side by side.
//
//   boot_time --minivmm BIN --qemu BIN|none --kernel K --initrd I --disk IMG
//             [--boots N] [--mem 256M] [--timeout SECS] [--cmdline TEXT] [--out FILE]
//             [--keep-logs DIR]
//
// Boots the same kernel, initramfs and disk (one copy of IMG in $TMPDIR, attached read-only),
// 1 vCPU, alternating minivmm, QEMU, minivmm, ... N times each. Each boot is a fork/exec of the
// VMM with its stdout (the serial console: stdio on both) on a pipe; every line is timestamped
// with CLOCK_MONOTONIC as it arrives. Per boot: exec to the line MINIVMM-INIT-OK (the guest's
// init has started) and exec to the VMM's exit (waitpid). minivmm runs with --stats; from the
// table it prints at the exit, the time inside KVM_RUN (the sum of the "in KVM_RUN" column over
// the exit reasons: 1 vCPU, so all of it is vCPU 0's) gives minivmm's own share of the boot:
//   outside = (exec to exit) - (inside KVM_RUN), share = outside / (exec to exit),
// which counts exec, setup before the first KVM_RUN, exit handling, and teardown after the
// last exit as minivmm's. The share is split further into: before the vCPU loop starts and
// after it ends (exec to exit minus the table's wall time), exit handling ("in minivmm"
// column), and the rest of the loop (thread start and join, the loop's own bookkeeping).
// Prints a Markdown table (also to --out FILE). Exit status 1 when a boot failed.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <poll.h>
#include <sstream>
#include <string>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vector>

#include "bench_util.hpp"

namespace {

struct Options {
    std::string minivmm, qemu = "none", kernel, initrd, disk, mem = "256M", out, keep_logs;
    std::string cmdline = "console=ttyS0 minivmm.action=poweroff";
    int boots = 10;
    int timeout_s = 300;
};

double now_s() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Boot {
    bool ok = false;
    std::string why;             // when not ok
    double to_init = -1;         // seconds from exec to MINIVMM-INIT-OK
    double to_exit = -1;         // seconds from exec to the VMM's exit
    std::string console, err;    // stdout and stderr of the VMM
    // minivmm only, from --stats
    double in_run = -1, handling = -1, loop_wall = -1;
};

std::string read_file(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

// Parses --stats' table: the wall time of the vCPU loop and the sums of the "in KVM_RUN" and
// "in minivmm" columns of the rows "by reason". False when the table is missing.
bool parse_stats(const std::string& err, Boot& b) {
    size_t head = err.find("minivmm: exit statistics (");
    if (head == std::string::npos) return false;
    unsigned long long exits = 0;
    double wall = 0;
    if (std::sscanf(err.c_str() + head, "minivmm: exit statistics (%llu exits in %lf s)", &exits,
                    &wall) != 2)
        return false;
    std::istringstream in(err.substr(head));
    std::string line;
    std::getline(in, line);   // the heading
    bool in_reasons = false;
    double run_ms = 0, handle_ms = 0;
    while (std::getline(in, line)) {
        std::istringstream row(line);
        std::string name, c2;
        row >> name >> c2;
        if (name == "by" && c2 == "reason") { in_reasons = true; continue; }
        if (name == "by") break;   // "by device": the same time again
        if (!in_reasons) continue;
        std::string run_text, handle_text;
        row >> run_text >> handle_text;
        if (run_text.size() < 3 || run_text.substr(run_text.size() - 2) != "ms") break;
        run_ms += std::strtod(run_text.c_str(), nullptr);
        handle_ms += std::strtod(handle_text.c_str(), nullptr);
    }
    b.loop_wall = wall;
    b.in_run = run_ms / 1e3;
    b.handling = handle_ms / 1e3;
    return true;
}

Boot boot_once(const std::vector<std::string>& argv, int timeout_s, const std::string& err_path) {
    Boot b;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        b.why = "pipe failed";
        return b;
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    double t0 = now_s();
    pid_t pid = ::fork();
    if (pid == 0) {
        int in = ::open("/dev/null", O_RDONLY);
        int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(in, 0);
        ::dup2(fds[1], 1);
        ::dup2(err, 2);
        ::setpgid(0, 0);
        ::execv(args[0], args.data());
        std::perror("exec");
        ::_exit(127);
    }
    ::close(fds[1]);
    if (pid < 0) {
        ::close(fds[0]);
        b.why = "fork failed";
        return b;
    }
    std::string partial;
    double deadline = t0 + timeout_s;
    bool timed_out = false;
    char buf[4096];
    for (;;) {
        double left = deadline - now_s();
        if (left <= 0) {
            timed_out = true;
            ::kill(-pid, SIGKILL);
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        ssize_t n = ::read(fds[0], buf, sizeof buf);
        double t = now_s();
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;   // EOF: the VMM (and everything holding its stdout) is gone
        b.console.append(buf, static_cast<size_t>(n));
        partial.append(buf, static_cast<size_t>(n));
        size_t nl;
        while ((nl = partial.find('\n')) != std::string::npos) {
            if (b.to_init < 0 && partial.substr(0, nl).find("MINIVMM-INIT-OK") != std::string::npos)
                b.to_init = t - t0;
            partial.erase(0, nl + 1);
        }
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    b.to_exit = now_s() - t0;
    b.err = read_file(err_path);
    if (timed_out) {
        b.why = "timed out";
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        b.why = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                  : "killed by signal " + std::to_string(WTERMSIG(status));
    } else if (b.to_init < 0) {
        b.why = "no MINIVMM-INIT-OK line";
    } else if (b.console.find("MINIVMM-POWEROFF") == std::string::npos) {
        b.why = "no MINIVMM-POWEROFF line";
    } else {
        b.ok = true;
    }
    return b;
}

std::string copy_disk(const std::string& src) {
    const char* tmp = std::getenv("TMPDIR");
    std::string path = std::string(tmp && *tmp ? tmp : "/tmp") + "/boot_time-disk.XXXXXX";
    int out = ::mkstemp(path.data());
    int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
    if (out < 0 || in < 0) {
        std::fprintf(stderr, "boot_time: cannot copy %s to %s\n", src.c_str(), path.c_str());
        std::exit(2);
    }
    struct stat st {};
    ::fstat(in, &st);
    off_t off = 0;
    while (off < st.st_size)
        if (::sendfile(out, in, &off, static_cast<size_t>(st.st_size - off)) <= 0) {
            std::perror("boot_time: sendfile");
            std::exit(2);
        }
    ::close(in);
    ::close(out);
    return path;
}

std::string fmt_s(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", v);
    return b;
}

std::string spread(const std::vector<double>& v) {
    if (v.empty()) return "-";
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return fmt_s(bench::median(v)) + " [" + fmt_s(*lo) + "-" + fmt_s(*hi) + "]";
}

void usage() {
    std::fprintf(stderr,
                 "usage: boot_time --minivmm BIN --qemu BIN|none --kernel K --initrd I --disk IMG"
                 " [--boots N] [--mem SIZE] [--timeout SECS] [--cmdline TEXT] [--out FILE]"
                 " [--keep-logs DIR]\n");
    std::exit(2);
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (i + 1 >= argc) usage();
        std::string v = argv[++i];
        if (a == "--minivmm") o.minivmm = v;
        else if (a == "--qemu") o.qemu = v;
        else if (a == "--kernel") o.kernel = v;
        else if (a == "--initrd") o.initrd = v;
        else if (a == "--disk") o.disk = v;
        else if (a == "--boots") o.boots = std::atoi(v.c_str());
        else if (a == "--mem") o.mem = v;
        else if (a == "--timeout") o.timeout_s = std::atoi(v.c_str());
        else if (a == "--cmdline") o.cmdline = v;
        else if (a == "--out") o.out = v;
        else if (a == "--keep-logs") o.keep_logs = v;
        else usage();
    }
    if (o.minivmm.empty() || o.kernel.empty() || o.initrd.empty() || o.disk.empty() ||
        o.boots < 1 || o.timeout_s < 1)
        usage();
    const bool with_qemu = o.qemu != "none";
    std::string disk = copy_disk(o.disk);
    std::string err_path = disk + ".err";

    std::vector<std::string> mv = {o.minivmm, "--kernel", o.kernel, "--initrd", o.initrd,
                                   "--disk", disk + ",ro", "--mem", o.mem, "--cpus", "1",
                                   "--cmdline", o.cmdline, "--serial", "stdio", "--stats",
                                   "--timeout", std::to_string(o.timeout_s)};
    std::vector<std::string> qv = {o.qemu, "-M", "microvm", "-enable-kvm", "-cpu", "host",
                                   "-smp", "1", "-m", o.mem, "-nodefaults", "-no-reboot",
                                   "-display", "none", "-monitor", "none", "-serial", "stdio",
                                   "-kernel", o.kernel, "-initrd", o.initrd, "-append", o.cmdline,
                                   "-drive", "id=d,file=" + disk + ",format=raw,if=none,readonly=on",
                                   "-device", "virtio-blk-device,drive=d"};

    std::vector<double> m_init, m_exit, q_init, q_exit, share, pre_post, handling, loop_rest;
    int failures = 0;
    for (int n = 1; n <= o.boots; ++n) {
        for (int which = 0; which < (with_qemu ? 2 : 1); ++which) {
            const char* name = which == 0 ? "minivmm" : "qemu";
            Boot b = boot_once(which == 0 ? mv : qv, o.timeout_s, err_path);
            if (b.ok && which == 0 && !parse_stats(b.err, b)) {
                b.ok = false;
                b.why = "no --stats table on stderr";
            }
            if (!o.keep_logs.empty()) {
                std::string base = o.keep_logs + "/" + name + "-" + std::to_string(n);
                std::ofstream(base + ".log") << b.console;
                std::ofstream(base + ".err") << b.err;
            }
            if (!b.ok) {
                ++failures;
                std::fprintf(stderr, "boot_time: %s boot %d failed: %s after %.2f s\n", name, n,
                             b.why.c_str(), b.to_exit);
                continue;
            }
            if (which == 0) {
                m_init.push_back(b.to_init);
                m_exit.push_back(b.to_exit);
                double outside = b.to_exit - b.in_run;
                share.push_back(100 * outside / b.to_exit);
                pre_post.push_back(100 * (b.to_exit - b.loop_wall) / b.to_exit);
                handling.push_back(100 * b.handling / b.to_exit);
                loop_rest.push_back(100 * (b.loop_wall - b.in_run - b.handling) / b.to_exit);
                std::fprintf(stderr,
                             "boot_time: minivmm boot %d: init %.3f s, exit %.3f s, in KVM_RUN "
                             "%.3f s, outside %.1f %%\n",
                             n, b.to_init, b.to_exit, b.in_run, share.back());
            } else {
                q_init.push_back(b.to_init);
                q_exit.push_back(b.to_exit);
                std::fprintf(stderr, "boot_time: qemu boot %d: init %.3f s, exit %.3f s\n", n,
                             b.to_init, b.to_exit);
            }
        }
    }
    ::unlink(disk.c_str());
    ::unlink(err_path.c_str());

    auto ratio = [](const std::vector<double>& a, const std::vector<double>& b) {
        if (a.empty() || b.empty()) return std::string("-");
        char s[32];
        std::snprintf(s, sizeof s, "%.2f", bench::median(a) / bench::median(b));
        return std::string(s);
    };
    std::string t;
    t += "| figure (s) | minivmm | QEMU microvm | minivmm / QEMU |\n|---|---|---|---|\n";
    t += "| exec to MINIVMM-INIT-OK | " + spread(m_init) + " | " + spread(q_init) + " | " +
         ratio(m_init, q_init) + " |\n";
    t += "| exec to power-off (VMM exit) | " + spread(m_exit) + " | " + spread(q_exit) + " | " +
         ratio(m_exit, q_exit) + " |\n";
    t += "\n| minivmm, % of exec to exit | median [min-max] |\n|---|---|\n";
    t += "| outside KVM_RUN (minivmm's own share) | " + spread(share) + " |\n";
    t += "| of which before the vCPU loop and after it | " + spread(pre_post) + " |\n";
    t += "| of which handling exits | " + spread(handling) + " |\n";
    t += "| of which the rest of the loop | " + spread(loop_rest) + " |\n";
    char tail[256];
    std::snprintf(tail, sizeof tail,
                  "\n%zu of %d minivmm boots and %zu of %d QEMU boots reached power-off; "
                  "medians over those.\n",
                  m_exit.size(), o.boots, q_exit.size(), with_qemu ? o.boots : 0);
    t += tail;
    std::fputs(t.c_str(), stdout);
    if (!o.out.empty()) std::ofstream(o.out) << t;
    return failures ? 1 : 0;
}
