// Machine: the command runner (minivmm --kernel K -- CMD) and the pvpanic port. Step 1 builds
// the archive appended to the initrd (the guest init and its job); step 3 adds the ports; the
// kernel's command line starts the init.
#include <algorithm>
#include <ctime>
#include <unistd.h>

#include "base/log.hpp"
#include "legacy/pvpanic.hpp"
#include "machine/machine.hpp"
#include "runner/ikconfig.hpp"
#include "runner/job.hpp"

namespace minivmm {

namespace {
// The host's root as the guest's (check_runner_options adds it for -- CMD without --initrd).
bool is_root_share(const p9::ShareSpec& s) { return s.tag == runner::ROOT_TAG && s.dir == "/"; }

double seconds_between(int64_t from_ns, int64_t to_ns) {
    return static_cast<double>(to_ns - from_ns) / 1e9;
}
} // namespace

int64_t monotonic_ns() {
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

Result<void> Machine::prepare_runner() {
    char cwd[4096];
    std::string host_cwd = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
    runner::Job job;
    job.argv = config_.command;
    job.env = runner::default_environment();
    // The shares (--share, and the host's root: see check_runner_options) go into the job: the
    // init mounts them at their host paths, the root one as its root.
    for (const p9::ShareSpec& s : config_.shares) {
        if (is_root_share(s))
            job.root_tag = s.tag;
        else
            job.shares.push_back({s.tag, s.dir, s.writable});
    }
    // On the host's root every host directory is there (read-only); else only shared ones.
    job.cwd = job.root_tag.empty() ? runner::guest_directory(host_cwd, job.shares) : host_cwd;
    auto archive = runner::job_archive(job);
    if (!archive) return archive.error().with_context("-- CMD");
    runner_archive_ = std::move(*archive);
    return {};
}

bool Machine::root_shared() const {
    return std::any_of(config_.shares.begin(), config_.shares.end(), is_root_share);
}

// A kernel that embeds its config must have every option the runner needs, else one line
// names the missing ones. One without (or one not gzip-compressed) is not checked: info line.
Result<void> Machine::check_runner_kernel(std::span<const uint8_t> kernel_file) const {
    const std::string& path = *config_.kernel;
    auto config = runner::embedded_config(kernel_file);
    if (!config) return config.error().with_context(fmt::format("Kernel {}", path));
    if (!config->text) {
        log(LogLevel::Info, "kernel {}: its options are not checked: {}", path, config->why_none);
        return {};
    }
    const auto missing = runner::missing_options(*config->text, runner::runner_needed_options(!config_.shares.empty(), root_shared()));
    if (missing.empty()) return {};
    std::string names;
    for (const std::string& m : missing) names += (names.empty() ? "" : " ") + m;
    return Error(ErrorCode::Input,
                 fmt::format("Kernel {} lacks what the command runner needs (see "
                             "guest-images/runner.config): {}", path, names));
}

// Called on a vCPU thread (the port writes); only atomics and the VmControl.
Result<void> Machine::add_runner_ports() {
    VmControl* control = control_.get();
    std::atomic<int64_t>* run_start = &run_start_ns_;
    std::atomic<int64_t>* started = &init_started_ns_;
    auto pvpanic = std::make_shared<PvPanic>([control, run_start, started] {
        const int64_t now = monotonic_ns();
        std::string when = fmt::format("{:.2f} s after start",
                                       seconds_between(run_start->load(), now));
        if (int64_t init = started->load(); init != 0)
            when += fmt::format(", {:.2f} s after init started", seconds_between(init, now));
        control->finish({Ending::Panic, 0,
                         fmt::format("kernel panic: the guest reported it through pvpanic ({})",
                                     when)});
    });
    MINIVMM_TRY(pio_.insert({layout::PVPANIC_PORT, 1}, pvpanic, "pvpanic"));
    if (config_.command.empty()) return {};
    auto init_port = std::make_shared<InitStartedPort>([run_start, started] {
        int64_t expected = 0;
        const int64_t now = monotonic_ns();
        if (started->compare_exchange_strong(expected, now))
            log(LogLevel::Info, "the runner's init started {:.2f} s after start",
                seconds_between(run_start->load(), now));
    });
    return pio_.insert({layout::INIT_STARTED_PORT, 1}, init_port, "init-started");
}

// -- CMD: the kernel's console stays COM1 (hvc0 and hvc1 are CMD's), a panic reboots at once
// (no status: exit code 117) unless pvpanic reported it first, and the init is ours. Without
// --serial (the log is discarded) `quiet` spares the guest an exit per byte of its log. The
// user's --cmdline comes last: its parameters win.
std::string Machine::kernel_cmdline() const {
    if (config_.command.empty()) return config_.cmdline;
    std::string line = fmt::format("console=ttyS0 panic=-1 rdinit={}", runner::INIT_PATH);
    if (config_.serial.kind == SerialConfig::Kind::None) line += " quiet";
    if (!config_.cmdline.empty()) line += " " + config_.cmdline;
    return line;
}

} // namespace minivmm
