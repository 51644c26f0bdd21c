// footprint: what a VM costs besides its guest's work, minivmm against QEMU microvm on the same
// guest binaries (and the raw-KVM loop for start-up), side by side in one run:
//   start-up   exec to the guest's first instruction and exec to exit of first-tsc.elf, which
//              reads the TSC at its first instruction and exits at once (or, with "wait", prints
//              that TSC and spins: KVM's tsc-offset for the VM in debugfs maps it to the host's)
//   idle       idle-guest.elf with 256 MiB, one virtio-blk disk and one virtio-net card (a tap in
//              a network namespace of this program's own), halted with nothing to do: the
//              VMM's memory besides guest RAM (/proc/PID/smaps) and the CPU time of all its
//              threads over --idle-seconds (schedstat)
//   many       VMs started and stopped per second (first-tsc.elf, one and two at a time), and
//              the memory of --vms idle VMs side by side (idle-guest.elf without devices)
// Usage: footprint --minivmm PATH --raw PATH --qemu PATH --first ELF --idle ELF --out FILE
//                  [--rounds N] [--idle-rounds N] [--idle-seconds S] [--cycles N] [--vms N]
//                  [--qemu-vms N]   (QEMU's count of idle VMs side by side, default --vms)
// Needs root (network namespace, tap, debugfs) and /dev/kvm; writes Markdown tables to FILE.
#include "bench_util.hpp"
#include "child_vm.hpp"
#include "footprint_report.hpp"
#include "smaps.hpp"

#include <fcntl.h>
#include <filesystem>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <map>
#include <memory>
#include <sys/ioctl.h>
#include <sys/mount.h>

namespace {

using namespace bench;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "footprint: %s\n", what.c_str());
    std::exit(1);
}

struct Options {
    std::string minivmm, raw, qemu, first, idle, out, disk = "/tmp/footprint-disk.img";
    int rounds = 10, idle_rounds = 3, cycles = 20, vms = 50, qemu_vms = -1;
    double idle_seconds = 10;
};

constexpr const char* TAP = "fp0";

// The command line of `vmm` for first-tsc.elf (wait: print the first TSC and spin) and its exit
// status when it exits at once.
std::pair<std::vector<std::string>, int> first_argv(const Options& o, Vmm vmm, bool wait) {
    if (vmm == Vmm::Raw) return {{o.raw, o.first, wait ? "wait" : ""}, 0};
    if (vmm == Vmm::Minivmm) {
        std::vector<std::string> a{o.minivmm, "--kernel", o.first, "--mem", "256M"};
        if (wait) a.insert(a.end(), {"--cmdline", "wait"});
        return {a, 0};
    }
    return {{o.qemu, "-name", "fp,debug-threads=on", "-M", "microvm", "-enable-kvm", "-cpu",
             "host,-arch-capabilities", "-m", "256M", "-nodefaults", "-no-user-config",
             "-display", "none", "-no-reboot", "-serial", "stdio", "-kernel", o.first, "-device",
             "isa-debug-exit,iobase=0xf4,iosize=4", "-append",
             std::string("exit_port=0xf4") + (wait ? " wait" : "")},
            1};   // isa-debug-exit: (0 << 1) | 1
}

// idle-guest.elf, with one disk and one net card or without devices.
std::vector<std::string> idle_argv(const Options& o, Vmm vmm, bool devices) {
    if (vmm == Vmm::Minivmm) {
        // acpi=off: the devices are then listed on the guest's command line, where it looks.
        std::vector<std::string> a{o.minivmm, "--kernel", o.idle, "--mem", "256M", "--cmdline",
                                   "acpi=off"};
        if (devices) a.insert(a.end(), {"--disk", o.disk, "--net", TAP});
        return a;
    }
    std::vector<std::string> a{o.qemu, "-name", "fp,debug-threads=on", "-M", "microvm,acpi=off",
                               "-enable-kvm", "-cpu", "host,-arch-capabilities", "-m", "256M",
                               "-nodefaults", "-no-user-config", "-display", "none",
                               "-no-reboot", "-serial", "stdio", "-kernel", o.idle, "-global",
                               "virtio-mmio.force-legacy=false"};
    if (devices)
        a.insert(a.end(), {"-drive", "id=d,file=" + o.disk + ",format=raw,if=none", "-device",
                           "virtio-blk-device,drive=d", "-netdev",
                           std::string("tap,id=n,ifname=") + TAP + ",script=no,downscript=no",
                           "-device", "virtio-net-device,netdev=n"});
    return a;
}

// KVM's TSC offset of vCPU 0 of the VM that process `pid` made: guest TSC = host TSC + offset.
int64_t tsc_offset(pid_t pid) {
    namespace fs = std::filesystem;
    const std::string prefix = std::to_string(pid) + "-";
    for (const auto& e : fs::directory_iterator("/sys/kernel/debug/kvm")) {
        if (e.path().filename().string().rfind(prefix, 0) != 0) continue;
        if (std::ifstream ratio{e.path() / "vcpu0" / "tsc-scaling-ratio"}) {
            uint64_t r = 0;
            ratio >> r;
            if (r != (1ull << 32) && r != (1ull << 48)) die("the VM's TSC is scaled");
        }
        int64_t offset = 0;
        if (!(std::ifstream(e.path() / "vcpu0" / "tsc-offset") >> offset)) break;
        return offset;
    }
    die("no tsc-offset in /sys/kernel/debug/kvm for pid " + std::to_string(pid));
}

double exec_to_exit(const std::vector<std::string>& argv, int expect) {
    double t0 = now();
    Vm vm(argv);
    int status = vm.wait();
    double t = now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != expect)
        die(argv[0] + " ended with wait status " + std::to_string(status));
    return t;
}

double exec_to_first(const std::vector<std::string>& argv, double hz) {
    uint64_t c0 = __rdtsc();
    Vm vm(argv);
    const std::string tag = "FIRST-TSC 0x";
    if (!vm.wait_for(tag, 60)) die(argv[0] + " printed no " + tag + ": " + vm.output);
    size_t p = vm.output.find(tag) + tag.size();
    if (!vm.wait_for("\n", 5) || vm.output.size() < p + 16)
        die("short FIRST-TSC line: " + vm.output);
    uint64_t guest = std::stoull(vm.output.substr(p, 16), nullptr, 16);
    uint64_t host = guest - static_cast<uint64_t>(tsc_offset(vm.pid));
    double t = static_cast<double>(static_cast<int64_t>(host - c0)) / hz;
    if (t <= 0 || t > 60) die("first instruction " + std::to_string(t) + " s after the fork");
    return t;
}

// Starts and stops `cycles` VMs, `parallel` at a time; VMs per second.
double start_stop_rate(const std::vector<std::string>& argv, int expect, int cycles,
                       size_t parallel) {
    std::vector<std::unique_ptr<Vm>> live;
    int started = 0, done = 0;
    double t0 = now();
    while (done < cycles) {
        for (; live.size() < parallel && started < cycles; ++started)
            live.push_back(std::make_unique<Vm>(argv));
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, 0);
        auto it = std::find_if(live.begin(), live.end(), [&](auto& v) { return v->pid == pid; });
        if (it == live.end()) die("waitpid: a child that is no VM");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != expect) die(argv[0] + " failed");
        (*it)->reaped();
        live.erase(it);
        ++done;
    }
    return cycles / (now() - t0);
}

IdleRun idle_run(const Options& o, Vmm vmm) {
    Vm vm(idle_argv(o, vmm, true));
    if (!vm.wait_for("IDLE-READY blk=1 net=1", 120))
        die(std::string(vmm_name(vmm)) + ": the idle guest did not come up: " + vm.output);
    ::usleep(1000000);
    auto c0 = vm.cpu();
    double w0 = now();
    ::usleep(static_cast<useconds_t>(o.idle_seconds * 1e6));
    auto c1 = vm.cpu();
    double w = now() - w0;
    IdleRun r{100 * (c1.vcpu - c0.vcpu) / w, 100 * (c1.other - c0.other) / w,
              read_smaps(vm.pid), 0};
    std::ifstream status("/proc/" + std::to_string(vm.pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("Threads:", 0) == 0) r.threads = std::stoi(line.substr(8));
    return r;
}

uint64_t mem_available_kb() {
    std::ifstream f("/proc/meminfo");
    for (std::string key; f >> key;) {
        uint64_t kb = 0;
        f >> kb;
        if (key == "MemAvailable:") return kb;
        f.ignore(64, '\n');
    }
    die("no MemAvailable in /proc/meminfo");
}

ManyRun many_idle(const Options& o, Vmm vmm, int count) {
    ::usleep(2000000);
    ManyRun r;
    r.vms = count;
    uint64_t before = mem_available_kb();
    std::vector<std::unique_ptr<Vm>> vms;
    double t0 = now();
    for (int i = 0; i < count; ++i) {
        vms.push_back(std::make_unique<Vm>(idle_argv(o, vmm, false)));
        if (!vms.back()->wait_for("IDLE-READY", 120))
            die(std::string(vmm_name(vmm)) + ": idle VM " + std::to_string(i) + " did not start");
    }
    r.start_all = now() - t0;
    ::usleep(3000000);
    r.mem_used_kb = static_cast<double>(before) - static_cast<double>(mem_available_kb());
    for (auto& vm : vms) {
        Smaps s = read_smaps(vm->pid);
        r.pss.add(s.total);
        r.guest_pss.add(s.guest);
    }
    return r;
}

void make_tap_and_disk(const Options& o) {
    if (::unshare(CLONE_NEWNET) != 0) die("unshare(CLONE_NEWNET) (run as root)");
    disable_ipv6();
    int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    ifreq ifr{};
    std::string(TAP).copy(ifr.ifr_name, IFNAMSIZ - 1);
    ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
    if (fd < 0 || ::ioctl(fd, TUNSETIFF, &ifr) != 0 || ::ioctl(fd, TUNSETPERSIST, 1) != 0)
        die("make the tap");
    ::close(fd);
    int disk = ::open(o.disk.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (disk < 0 || ::ftruncate(disk, 64 << 20) != 0) die("make " + o.disk);
    ::close(disk);
    if (!std::filesystem::exists("/sys/kernel/debug/kvm") &&
        ::mount("debugfs", "/sys/kernel/debug", "debugfs", 0, nullptr) != 0)
        die("mount debugfs");
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--minivmm") o.minivmm = v;
        else if (k == "--raw") o.raw = v;
        else if (k == "--qemu") o.qemu = v;
        else if (k == "--first") o.first = v;
        else if (k == "--idle") o.idle = v;
        else if (k == "--out") o.out = v;
        else if (k == "--rounds") o.rounds = std::stoi(v);
        else if (k == "--idle-rounds") o.idle_rounds = std::stoi(v);
        else if (k == "--idle-seconds") o.idle_seconds = std::stod(v);
        else if (k == "--cycles") o.cycles = std::stoi(v);
        else if (k == "--vms") o.vms = std::stoi(v);
        else if (k == "--qemu-vms") o.qemu_vms = std::stoi(v);
        else die("unknown option " + k);
    }
    if (o.minivmm.empty() || o.raw.empty() || o.qemu.empty() || o.first.empty() ||
        o.idle.empty() || o.out.empty())
        die("usage: footprint --minivmm PATH --raw PATH --qemu PATH --first ELF --idle ELF "
            "--out FILE [--rounds N] [--idle-rounds N] [--idle-seconds S] [--cycles N] [--vms N] "
            "[--qemu-vms N]");
    return o;
}

} // namespace

int main(int argc, char** argv) {
    Options o = parse(argc, argv);
    if (o.qemu_vms < 0) o.qemu_vms = o.vms;
    make_tap_and_disk(o);
    double hz = tsc_hz(0.5);
    Results res;
    auto save = [&] { std::ofstream(o.out) << report(o.cycles, res); };
    const Vmm all[] = {Vmm::Minivmm, Vmm::Raw, Vmm::Qemu};
    for (int r = -1; r < o.rounds; ++r) {   // round -1: warm-up, not kept
        for (int i = 0; i < 3; ++i) {
            Vmm v = all[(static_cast<size_t>(r + 1) + static_cast<size_t>(i)) % 3];
            auto [exit_argv, expect] = first_argv(o, v, false);
            double e = exec_to_exit(exit_argv, expect);
            double f = exec_to_first(first_argv(o, v, true).first, hz);
            if (r < 0) continue;
            res.exit[v].push_back(e);
            res.first[v].push_back(f);
        }
        std::fprintf(stderr, "footprint: start-up round %d done\n", r);
    }
    save();
    for (int r = 0; r < o.idle_rounds; ++r)
        for (Vmm v : r % 2 ? std::vector{Vmm::Qemu, Vmm::Minivmm}
                           : std::vector{Vmm::Minivmm, Vmm::Qemu}) {
            res.idle[v].push_back(idle_run(o, v));
            std::fprintf(stderr, "footprint: idle round %d %s done\n", r, vmm_name(v));
        }
    save();
    for (Vmm v : all)
        for (size_t parallel : {1u, 2u}) {
            auto [a, expect] = first_argv(o, v, false);
            res.rate[{v, parallel}] = start_stop_rate(a, expect, o.cycles, parallel);
        }
    std::fprintf(stderr, "footprint: start/stop rates done\n");
    for (Vmm v : {Vmm::Minivmm, Vmm::Qemu}) {
        res.many[v] = many_idle(o, v, v == Vmm::Qemu ? o.qemu_vms : o.vms);
        std::fprintf(stderr, "footprint: idle VMs of %s done\n", vmm_name(v));
    }
    save();
    std::fprintf(stderr, "footprint: wrote %s\n", o.out.c_str());
}
