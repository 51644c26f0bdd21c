// Snapshot and restore, minivmm against QEMU microvm on the same guest (guest-images/demos/
// snap_guest.c: it writes --touch MiB of its RAM, then spins; see there), for each --sizes RAM
// size, the VMMs alternated run by run:
//
//   snapshot: the guest booted and its RAM written; the VM paused (minivmm: PATCH /vm on the
//     API socket; QEMU: QMP stop); --settle-ms later the clock starts, and it stops when the
//     files are complete: minivmm's answer to PUT /snapshot/create (two files in --dir),
//     QEMU's MIGRATION event "completed" after `migrate fd:` to one file, the descriptor handed
//     over with QMP getfd (no exec/cat pipe; migration events on, max-bandwidth raised from
//     QEMU's 32 MiB/s default). Both write to the page cache; neither syncs.
//   restore: a new process from the files, running at once (minivmm --restore DIR,resume;
//     QEMU the same command line plus -incoming fd:3, the file open on fd 3; the source ran
//     with migration.store-global-state=off, so that QEMU runs the guest once it is loaded
//     rather than keep the source's paused state), from the host's
//     CLOCK_MONOTONIC and TSC just before the fork that execs it:
//     - guest side: to the guest running again, by its TSC: the guest polls COM1 for a byte,
//       which only the restored VM gets (minivmm: in its stdin pipe from the start; QEMU:
//       written once QMP's query-status, polled every 0.5 ms, says the guest runs, since QEMU reads stdin into a
//       UART that its load then overwrites, which would lose a byte written earlier), and reads
//       the TSC at the poll that sees it. It then reads the TSC as it sees each of 5 more bytes
//       this program writes, each after the guest acknowledged the one before; the guest's TSC
//       minus this program's TSC at the write, smallest over the 5, is the offset between the
//       two clocks (too large by at most the delivery time of one byte: the guest's time comes
//       out that much early). Then to the guest having read back and checked its touched RAM.
//     - host side: to the guest's first line after the restore on the VMM's stdout (minivmm's
//       console writes at most 2 ms after the guest: README, "The serial console").
//
//   snapshot_bench --minivmm BIN --guest ELF [--qemu BIN|none] [--baseline BIN
//                  [--baseline-label TEXT]] [--runs N] [--sizes 256,2048] [--touch MiB]
//                  [--settle-ms N] [--dir DIR]
//
// Prints a Markdown table: medians with min-max in brackets, after one warm-up round.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>
#include <x86intrin.h>

#include "bench_util.hpp"
#include "snapshot_child.hpp"
#include "snapshot_control.hpp"

namespace {

using bench::load_average;
using bench::now;
using bench::tsc_hz;

using snapbench::die;

struct Options {
    std::string minivmm, guest, qemu = "qemu-system-x86_64";
    std::string baseline, baseline_label = "baseline";
    std::string dir = "/var/tmp/minivmm-snapshot-bench";
    std::vector<uint64_t> sizes = {256, 2048};
    uint64_t touch = 64;
    unsigned runs = 10, settle_ms = 200;
};

using snapbench::Child;
using snapbench::connect_unix;
using snapbench::http;
using snapbench::Qmp;
using snapbench::send_all;

struct Side {
    std::string label;
    bool qemu;
    std::string binary;
};

struct Sample {
    double snapshot = 0;      // s
    double file_mib = 0;      // on disk
    double guest_first = 0;   // s from exec, guest side
    double guest_verified = 0;
    double host_first = 0;    // s from exec to the guest's "R" line
};

std::vector<std::string> qemu_argv(const Options& o, const Side& s, uint64_t mib,
                                   const std::string& qmp) {
    return {s.binary, "-name", "snapbench", "-M", "microvm,acpi=off", "-enable-kvm", "-cpu",
            "host,-arch-capabilities", "-m", std::to_string(mib) + "M", "-display", "none",
            "-no-reboot", "-nodefaults", "-serial", "stdio", "-kernel", o.guest,
            // The destination runs the guest once loaded (no -S), unless told the source's run
            // state (paused here): the source does not send it.
            "-global", "migration.store-global-state=off", "-device",
            "isa-debug-exit,iobase=0xf4,iosize=4", "-qmp", "unix:" + qmp + ",server=on,wait=off",
            "-append", "touch=" + std::to_string(o.touch) + " exit_port=0xf4"};
}

uint64_t field(const std::string& line, const char* key) {
    auto p = line.find(std::string(" ") + key + "=");
    if (p == std::string::npos) die("no " + std::string(key) + " in: " + line);
    return std::strtoull(line.c_str() + p + std::strlen(key) + 2, nullptr, 10);
}

double disk_mib(const std::string& path) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0) die("no file " + path);
    return static_cast<double>(st.st_blocks) * 512 / (1 << 20);
}

// The restore half: the VMM started from the files, the guest's report read, its clocks tied.
void restore(Child& c, const std::string& what, double hz, int expect, Sample& out,
             const std::string& qmp = "") {
    // QEMU reads its stdin while it loads the state, into a UART whose state the load then
    // replaces: the byte that tells the guest it runs again is written only once QMP says the
    // guest runs (query-status says so once the vCPUs are started).
    if (!qmp.empty()) {
        Qmp q(qmp);
        // Polled every 0.5 ms: a RESUME event that comes while a command's answer is awaited
        // is easily lost here.
        for (const double end = now() + 60;
             q.command(R"({"execute":"query-status"})").find("\"running\": true") == std::string::npos;
             ::usleep(500))
            if (now() > end) die("QEMU does not run the restored guest");
        if (::write(c.in, "g", 1) != 1) die("write to the guest's COM1");
    }
    const size_t r = c.wait_for("R\n", 0, 120, ("R from " + what).c_str());
    out.host_first = c.arrival(r) - c.exec_mono;
    int64_t offset = INT64_MAX;
    std::vector<uint64_t> sent;
    size_t from = r + 2;
    for (int i = 0; i < 5; ++i) {
        sent.push_back(__rdtsc());
        if (::write(c.in, "x", 1) != 1) die("write to the guest's COM1");
        from = c.wait_for("E\n", from, 10, "an echo") + 2;
    }
    const size_t p = c.wait_for("SNAP-RESUMED", from, 60, "SNAP-RESUMED");
    c.wait_for("\n", p, 10, "the end of SNAP-RESUMED");
    const std::string line = c.output.substr(p, c.output.find('\n', p) - p);
    auto e = line.find(" echo=");
    if (e == std::string::npos) die("no echo= in " + line);
    const char* s = line.c_str() + e + 6;
    for (int i = 0; i < 5; ++i) {
        char* end;
        const uint64_t t = std::strtoull(s, &end, 10);
        offset = std::min(offset, static_cast<int64_t>(t - sent[static_cast<size_t>(i)]));
        s = end + 1;
    }
    if (field(line, "bad") != 0) die(what + ": the restored RAM differs: " + line);
    const int status = c.wait_exit();
    if (status != expect) die(what + " exited " + std::to_string(status));
    auto host_time = [&](uint64_t guest_tsc) {
        return static_cast<double>(static_cast<int64_t>(guest_tsc - c.exec_tsc) - offset) / hz;
    };
    out.guest_first = host_time(field(line, "first"));
    out.guest_verified = host_time(field(line, "verified"));
    if (out.guest_first < 0 || out.guest_first > out.host_first + 0.001)
        die(what + ": the guest's first instruction at " + std::to_string(out.guest_first) +
            " s, its first line at " + std::to_string(out.host_first) + " s: clocks not tied");
}

Sample cycle(const Options& o, const Side& s, uint64_t mib, double hz) {
    const std::string base = o.dir + "/" + (s.qemu ? "qemu" : "minivmm");
    const std::string sock = base + ".sock", log = base + ".log";
    const std::string state = base + ".state", mem = base + ".mem", file = base + ".migration";
    ::unlink(state.c_str());
    ::unlink(mem.c_str());
    ::unlink(file.c_str());
    Sample out;
    const std::string guest_args = "touch=" + std::to_string(o.touch);
    if (!s.qemu) {
        {
            Child vm({s.binary, "--kernel", o.guest, "--mem", std::to_string(mib) + "M",
                      "--api-socket", sock, "--cmdline", "acpi=off " + guest_args, "--timeout",
                      "600"}, log);
            vm.wait_for("SNAP-READY", 0, 60, "SNAP-READY from minivmm");
            int api = connect_unix(sock, 10);
            http(api, "PATCH", "/vm", R"({"state": "Paused"})");
            ::usleep(o.settle_ms * 1000);
            const double t0 = now();
            http(api, "PUT", "/snapshot/create",
                 R"({"snapshot_path": ")" + state + R"(", "mem_file_path": ")" + mem + R"("})");
            out.snapshot = now() - t0;
            ::close(api);
            vm.stop();
            if (vm.output.find("R\n") != std::string::npos)
                die("minivmm's guest went on before its restore");
        }
        out.file_mib = disk_mib(mem) + disk_mib(state);
        // The byte that tells the guest it runs again waits in the pipe from the start.
        Child vm({s.binary, "--restore", state + "," + mem + ",resume", "--timeout", "600"}, log,
                 -1, "g");
        restore(vm, s.label, hz, 0, out);
    } else {
        const std::string qmp = base + ".qmp";
        {
            Child vm(qemu_argv(o, s, mib, qmp), log);
            vm.wait_for("SNAP-READY", 0, 60, "SNAP-READY from QEMU");
            Qmp q(qmp);
            q.command(R"({"execute":"migrate-set-capabilities","arguments":{"capabilities":)"
                      R"([{"capability":"events","state":true}]}})");
            q.command(R"({"execute":"migrate-set-parameters","arguments":)"
                      R"({"max-bandwidth":107374182400}})");
            q.command(R"({"execute":"stop"})");
            int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (fd < 0) die("cannot create " + file);
            q.command(R"({"execute":"getfd","arguments":{"fdname":"snap"}})", fd);
            ::close(fd);
            ::usleep(o.settle_ms * 1000);
            const double t0 = now();
            q.command(R"({"execute":"migrate","arguments":{"uri":"fd:snap"}})");
            q.wait_migrated();
            out.snapshot = now() - t0;
            vm.stop();
            if (vm.output.find("R\n") != std::string::npos)
                die("QEMU's guest went on before its restore");
        }
        out.file_mib = disk_mib(file);
        int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) die("cannot open " + file);
        auto argv = qemu_argv(o, s, mib, qmp);
        argv.insert(argv.end(), {"-incoming", "fd:3"});
        Child vm(argv, log, fd);
        ::close(fd);
        restore(vm, s.label, hz, 1, out, qmp);   // isa-debug-exit: (0 << 1) | 1
    }
    return out;
}

struct Stats {
    double median, min, max;
};
Stats stats(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return {bench::median(v), v.front(), v.back()};
}

std::string cell(const std::vector<double>& v, double scale, int digits) {
    const Stats s = stats(v);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.*f [%.*f-%.*f]", digits, s.median * scale, digits,
                  s.min * scale, digits, s.max * scale);
    return buf;
}

Options parse(int argc, char** argv) {
    Options o;
    // The options that take text as it is.
    const std::pair<const char*, std::string*> texts[] = {
        {"--minivmm", &o.minivmm}, {"--guest", &o.guest}, {"--qemu", &o.qemu},
        {"--baseline", &o.baseline}, {"--baseline-label", &o.baseline_label}, {"--dir", &o.dir}};
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i], v = argv[i + 1];
        auto text = std::find_if(std::begin(texts), std::end(texts),
                                 [&](const auto& t) { return a == t.first; });
        if (text != std::end(texts)) *text->second = v;
        else if (a == "--runs") o.runs = static_cast<unsigned>(std::stoul(v));
        else if (a == "--touch") o.touch = std::stoull(v);
        else if (a == "--settle-ms") o.settle_ms = static_cast<unsigned>(std::stoul(v));
        else if (a == "--sizes") {
            o.sizes.clear();
            for (size_t p = 0; p < v.size();) {
                size_t q = v.find(',', p);
                if (q == std::string::npos) q = v.size();
                o.sizes.push_back(std::stoull(v.substr(p, q - p)));
                p = q + 1;
            }
        } else die("unknown option " + a);
    }
    if (o.minivmm.empty() || o.guest.empty() || o.runs == 0 || o.sizes.empty())
        die("needs --minivmm and --guest");
    for (uint64_t s : o.sizes)
        if (16 + o.touch > s) die("--touch does not fit in a " + std::to_string(s) + " MiB guest");
    return o;
}

} // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    ::mkdir(o.dir.c_str(), 0700);
    const double hz = tsc_hz(0.2);
    std::vector<Side> sides = {{"minivmm", false, o.minivmm}};
    if (!o.baseline.empty()) sides.push_back({"minivmm " + o.baseline_label, false, o.baseline});
    if (o.qemu != "none") sides.push_back({"QEMU", true, o.qemu});
    const std::string load_before = load_average();

    // samples[size][side]
    std::vector<std::vector<std::vector<Sample>>> samples(
        o.sizes.size(), std::vector<std::vector<Sample>>(sides.size()));
    for (unsigned run = 0; run <= o.runs; ++run) {   // run 0 warms up
        for (size_t z = 0; z < o.sizes.size(); ++z) {
            std::string log = std::to_string(o.sizes[z]) + " MiB run " + std::to_string(run) + ":";
            for (size_t k = 0; k < sides.size(); ++k) {
                const size_t i = (k + run) % sides.size();   // the order rotates
                const Sample s = cycle(o, sides[i], o.sizes[z], hz);
                char buf[200];
                std::snprintf(buf, sizeof buf, " %s snapshot %.1f ms, restore %.2f/%.2f/%.2f ms;",
                              sides[i].label.c_str(), s.snapshot * 1e3, s.guest_first * 1e3,
                              s.host_first * 1e3, s.guest_verified * 1e3);
                log += buf;
                if (run > 0) samples[z][i].push_back(s);
            }
            std::fprintf(stderr, "%s\n", log.c_str());
        }
    }

    std::string head = "| RAM | figure |", rule = "|---|---|";
    for (const Side& s : sides) head += " " + s.label + " |", rule += "---|";
    const bool ratio = sides.back().qemu;
    if (ratio) head += " minivmm / QEMU |", rule += "---|";
    std::printf("%s\n%s\n", head.c_str(), rule.c_str());
    struct Figure {
        const char* name;
        double Sample::*field;
        double scale;
        int digits;
    };
    const std::string touched = std::to_string(o.touch) + " MiB";
    const std::string verify = "restore: exec to the guest having read back its " + touched +
                               " (guest's TSC), ms";
    const Figure figures[] = {
        {"snapshot: paused VM to complete files, ms", &Sample::snapshot, 1e3, 1},
        {"restore: exec to the guest running again (guest's TSC), ms", &Sample::guest_first, 1e3, 2},
        {"restore: exec to the guest's first line on the VMM's stdout, ms", &Sample::host_first, 1e3, 2},
        {verify.c_str(), &Sample::guest_verified, 1e3, 2},
        {"snapshot files on disk, MiB", &Sample::file_mib, 1, 1},
    };
    for (size_t z = 0; z < o.sizes.size(); ++z) {
        for (const Figure& f : figures) {
            std::string line = "| " + std::to_string(o.sizes[z]) + " MiB | " + f.name + " |";
            std::vector<double> medians;
            for (size_t i = 0; i < sides.size(); ++i) {
                std::vector<double> v;
                for (const Sample& s : samples[z][i]) v.push_back(s.*f.field);
                line += " " + cell(v, f.scale, f.digits) + " |";
                medians.push_back(stats(v).median);
            }
            if (ratio) {
                char buf[32];
                std::snprintf(buf, sizeof buf, " %.3f |", medians.front() / medians.back());
                line += buf;
            }
            std::printf("%s\n", line.c_str());
        }
    }
    std::printf("\nTSC %.1f MHz (calibrated against CLOCK_MONOTONIC); %u runs per VMM and size "
                "after a warm-up round, the VMMs in an order that rotates from run to run; the "
                "guest wrote %s of its RAM; load average (1, 5 min) %s before, %s after.\n",
                hz / 1e6, o.runs, touched.c_str(), load_before.c_str(), load_average().c_str());
    return 0;
}
