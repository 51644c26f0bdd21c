#include "cli/cli.hpp"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include "base/log.hpp"
#include "base/file.hpp"
#include "demos.hpp"
#include "memory/layout.hpp"
#include "p9/p9_registration.hpp"
#include "p9/share_spec.hpp"
#include "runner/job.hpp"
#include "sandbox/seccomp_filter.hpp"

namespace minivmm {

Result<uint64_t> parse_size(const std::string& text) {
    if (text.empty() || text[0] < '0' || text[0] > '9')
        return Error(ErrorCode::Usage, fmt::format("Invalid size '{}'", text));
    uint64_t value = 0;
    size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        uint64_t digit = static_cast<uint64_t>(text[i] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return Error(ErrorCode::Usage, fmt::format("Size '{}' is too large", text));
        value = value * 10 + digit;
    }
    unsigned shift = 0;
    if (i < text.size()) {
        switch (text[i]) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        case 't': case 'T': shift = 40; break;
        default: return Error(ErrorCode::Usage, fmt::format("Invalid size '{}'", text));
        }
        ++i;
        std::string_view unit = std::string_view(text).substr(i);   // "M", "MB" or "MiB"
        if (!unit.empty() && unit != "B" && unit != "iB")
            return Error(ErrorCode::Usage, fmt::format("Invalid size '{}'", text));
    }
    if (shift && value > (UINT64_MAX >> shift))
        return Error(ErrorCode::Usage, fmt::format("Size '{}' is too large", text));
    return value << shift;
}

Result<SerialConfig> parse_serial(const std::string& text) {
    SerialConfig serial;
    if (text == "stdio") return serial;
    if (text == "none") {
        serial.kind = SerialConfig::Kind::None;
        return serial;
    }
    if (text.rfind("file:", 0) == 0 && text.size() > 5) {
        serial.kind = SerialConfig::Kind::File;
        serial.path = text.substr(5);
        return serial;
    }
    return Error(ErrorCode::Usage,
                 fmt::format("--serial '{}': expected stdio, file:PATH or none", text));
}

Result<void> check_kernel_file(const std::string& path) {
    auto file = open_regular_file(path, "kernel");
    if (!file) return file.error();
    uint8_t header[0x210] = {};
    ssize_t n = ::pread(file->fd.get(), header, sizeof header, 0);
    if (n < 0) return sys_error(ErrorCode::Input, fmt::format("Cannot read kernel {}", path));
    bool elf = n >= 4 && header[0] == 0x7f && header[1] == 'E' && header[2] == 'L' && header[3] == 'F';
    bool bzimage = n >= 0x206 && std::string_view(reinterpret_cast<char*>(header) + 0x202, 4) == "HdrS";
    if (elf || bzimage) return {};   // the headers proper are checked when it is loaded
    return Error(ErrorCode::Input,
                 fmt::format("Kernel {} is neither a bzImage (no 'HdrS' setup header) nor an "
                             "ELF vmlinux",
                             path));
}

// -- CMD: a kernel to run it under, and stdout, stderr and stdin kept for CMD. Without
// --serial the kernel's log is discarded (the serial's host end is none).
Result<void> check_runner_options(MachineConfig& config, bool serial_given) {
    if (!config.kernel) return Error(ErrorCode::Usage, "-- CMD needs --kernel");
    if (!serial_given) config.serial.kind = SerialConfig::Kind::None;
    for (const DeviceOption& d : config.devices)
        if (d.args->takes_stdin())
            return Error(ErrorCode::Usage,
                         "--console stdio cannot be used with -- CMD (stdout is CMD's)");
    // Without --initrd the guest has no programs of its own: its root is the host's, shared
    // read-only (virtio-9p), under a tmpfs overlay the init puts on it.
    if (!config.initrd) {
        p9::ShareSpec root{"/", runner::ROOT_TAG, false};
        if (auto ok = p9::check_share(root, config.shares); !ok)
            return ok.error().with_context("-- CMD without --initrd shares the host's root");
        config.shares.push_back(std::move(root));
    }
    return {};
}

// --restore DIR[,resume] (DIR/vm.state and DIR/vm.mem, as `ctl snapshot DIR` writes them) or
// STATE,MEM[,resume]. A second part that is exactly "resume" is the flag: a memory file of
// that name is ./resume.
static Result<RestoreConfig> parse_restore(const std::string& text) {
    std::vector<std::string> parts;
    for (size_t start = 0;;) {
        const size_t comma = text.find(',', start);
        parts.push_back(text.substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    RestoreConfig r;
    r.resume = parts.size() >= 2 && parts.back() == "resume";
    if (r.resume) parts.pop_back();
    for (const std::string& p : parts)
        if (p.empty() || parts.size() > 2)
            return Error(ErrorCode::Usage, "--restore: expected DIR[,resume] or STATE,MEM[,resume]");
    if (parts.size() == 1) {
        r.state = parts[0] + "/" + SNAPSHOT_STATE_NAME;
        r.memory = parts[0] + "/" + SNAPSHOT_MEMORY_NAME;
    } else {
        r.state = parts[0];
        r.memory = parts[1];
    }
    return r;
}

Result<std::optional<MachineConfig>> parse_command_line(int argc, char** argv) {
    MachineConfig config;
    // Everything after the first "--" is the command the runner runs in the guest, never an
    // option of ours.
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) != "--") continue;
        config.command.assign(argv + i + 1, argv + argc);
        if (config.command.empty())
            return Error(ErrorCode::Usage, "-- must be followed by a command to run in the guest");
        argc = i;
        break;
    }
    config.demo = std::string(DEFAULT_DEMO);
    std::string mem_text, log_level = "warning", serial_text = "stdio";
    bool version = false, no_seccomp = false;
    // Each device type's option (--disk, --net, --rng, ...), its texts in the order given.
    const auto types = device_types();
    std::vector<std::vector<std::string>> device_texts(types.size());

    CLI::App app{"minivmm: a small, fast, readable KVM hypervisor"};
    std::string demo_list = "\nDemo guests (--demo NAME):\n";
    for (const auto& d : demos()) demo_list += fmt::format("  {:<14} {}\n", d.name, d.description);
    app.footer(demo_list);
    auto* demo = app.add_option("--demo", config.demo, "Run a built-in demo guest (default: hello)");
    app.add_option("--kernel", config.kernel,
                   "Kernel to boot: a bzImage, or an ELF vmlinux with a PVH entry note")
        ->excludes(demo);
    app.add_option("--initrd", config.initrd, "Initial ramdisk for the kernel");
    app.add_option("--cmdline", config.cmdline, "Kernel command line");
    app.add_option("--system-map", config.system_map,
                   "The kernel's System.map: names code addresses in state reports (an ELF "
                   "vmlinux's own symbols are used without it)");
    for (size_t i = 0; i < types.size(); ++i) {
        auto* option = app.add_option(fmt::format("--{}", types[i]->option), device_texts[i],
                                      std::string(types[i]->help))
                           ->allow_extra_args(false);
        if (types[i]->value_optional)
            option->expected(0, 1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    }
    app.add_option("--dump-dtb", config.dump_dtb,
                   "Write the machine's device tree (DTB) to FILE and exit without running");
    auto* mem = app.add_option("--mem", mem_text, "Guest RAM size, e.g. 512M or 2G (default 16M for demos)");
    app.add_option("--cpus", config.cpus, "Number of vCPUs, 1 to 64 (demos use 1)")
        ->check(CLI::Range(1u, MAX_VCPUS));
    app.add_flag("--trace-exits", config.trace_exits, "Print one line per VM exit on stderr");
    app.add_flag("--stats", config.stats, "Print exit counts and times per reason and device");
    app.add_flag("--show-memory", config.show_memory,
                 "Print the memory slots and the guest-physical layout at start");
    app.add_option("--timeout", config.timeout_seconds, "Stop the VM after SECONDS (exit code 124)")
        ->check(CLI::Range(0u, MAX_TIMEOUT_SECONDS));
    auto* boot_timeout =
        app.add_option("--boot-timeout", config.boot_timeout_seconds,
                       "With -- CMD: end the VM (exit code 118) when the guest's init has not "
                       "started after SECONDS (default 60; 0: no limit)")
            ->check(CLI::Range(0u, MAX_TIMEOUT_SECONDS));
    auto* serial_option = app.add_option("--serial", serial_text,
                   "COM1's host end: stdio (default; on a terminal, Ctrl-a x quits), "
                   "file:PATH (output only) or none");
    app.add_option("--log-level", log_level, "debug, info, warning, error or off");
    app.add_option("--kvm", config.kvm_path, "The KVM device (default /dev/kvm)");
    std::string api_socket;
    auto* api = app.add_option("--api-socket", api_socket,
                               "Serve the management API (a subset of Firecracker's REST API) on "
                               "this unix socket; without --kernel or --demo, the VM waits for "
                               "the API to configure and start it");
    std::string restore_text;
    auto* restore = app.add_option("--restore", restore_text,
                                   "DIR[,resume] or STATE,MEM[,resume]: start the VM a snapshot's "
                                   "files describe (DIR/vm.state and DIR/vm.mem as minivmm ctl "
                                   "SOCKET snapshot DIR writes them, or PUT /snapshot/create's), paused "
                                   "unless ',resume' (ctl resume runs it)");
    bool seccomp_on = false;   // --seccomp: the default, accepted for scripts that name it
    auto* seccomp = app.add_flag("--seccomp", seccomp_on,
                                 sandbox::SECCOMP_BY_DEFAULT
                                     ? "Confine each thread with its seccomp filter (the default)"
                                     : "Confine each thread with its seccomp filter (off by "
                                       "default in this sanitizer build)");
    app.add_flag("--no-seccomp", no_seccomp,
                 "Run without seccomp filters (for debugging)")
        ->excludes(seccomp);
    app.add_flag("--version", version, "Print the version and exit");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        std::fputs(app.help().c_str(), stdout);
        return std::optional<MachineConfig>();
    } catch (const CLI::ParseError& e) {
        return Error(ErrorCode::Usage, e.what());
    }
    config.seccomp = seccomp_on || (sandbox::SECCOMP_BY_DEFAULT && !no_seccomp);
    if (api->count() > 0) {
        config.api_socket = api_socket;
        config.start_from_api = !config.kernel && demo->count() == 0 && restore->count() == 0;
        if (config.dump_dtb) return Error(ErrorCode::Usage, "--dump-dtb runs no VM: no --api-socket");
    }
    if (version) {
        std::puts("minivmm " MINIVMM_VERSION);
        return std::optional<MachineConfig>();
    }
    LogLevel level;
    if (!parse_log_level(log_level, level))
        return Error(ErrorCode::Usage, fmt::format("Unknown log level '{}'", log_level));
    set_log_level(level);
    auto serial = parse_serial(serial_text);
    if (!serial) return serial.error();
    config.serial = *serial;
    if (config.command.empty() && boot_timeout->count() > 0)
        return Error(ErrorCode::Usage, "--boot-timeout needs a command (-- CMD)");
    if (!config.command.empty() && boot_timeout->count() == 0)
        config.boot_timeout_seconds = DEFAULT_BOOT_TIMEOUT_SECONDS;
    if (mem->count() > 0) {   // given, even empty: "--mem ''" is an error, not the default
        auto size = parse_size(mem_text);
        if (!size) return size.error().with_context("--mem");
        if (*size < layout::MIN_RAM_SIZE || *size > layout::MAX_RAM_SIZE)
            return Error(ErrorCode::Usage,
                         fmt::format("--mem: {} is outside {} MiB..{} GiB", mem_text,
                                     layout::MIN_RAM_SIZE >> 20, layout::MAX_RAM_SIZE >> 30));
        config.mem_size = *size;
    }
    // The runner's stdout and stderr consoles come first among the consoles: hvc0 and hvc1.
    if (!config.command.empty()) {
        MINIVMM_TRY(add_device_option(config.devices, "console", "stdout"));
        MINIVMM_TRY(add_device_option(config.devices, "console", "stderr"));
    }
    for (size_t i = 0; i < types.size(); ++i)
        for (const auto& text : device_texts[i])
            // --share goes to MachineConfig::shares, where other code adds shares too.
            MINIVMM_TRY(types[i] == &p9::DEVICE_TYPE
                            ? p9::add_share(config.shares, text)
                            : add_device_option(config.devices, types[i]->option, text));
    if (!config.command.empty()) MINIVMM_TRY(check_runner_options(config, serial_option->count() > 0));
    if (restore->count() > 0) {
        auto r = parse_restore(restore_text);
        if (!r) return r.error();
        // The machine's shape is the snapshot's; an option that would say otherwise is refused.
        if (config.kernel || demo->count() > 0 || mem->count() > 0 || config.cpus != 1 ||
            config.initrd || !config.cmdline.empty() || !config.shares.empty() ||
            !config.command.empty())
            return Error(ErrorCode::Usage, "--restore takes the guest, its size and its devices "
                                           "from the snapshot: no --kernel, --demo, --mem, --cpus, "
                                           "--share or command with it");
        // --disk and --net put the snapshot's devices on other host ends: the i-th --disk
        // replaces its i-th disk (Machine::apply_overrides checks them against the snapshot).
        for (size_t i = 0; i < types.size(); ++i) {
            if (device_texts[i].empty()) continue;
            if (types[i]->restore_override == nullptr)
                return Error(ErrorCode::Usage,
                             fmt::format("--{} cannot be given with --restore (only --disk and "
                                         "--net override the snapshot's devices)",
                                         types[i]->option));
            for (size_t k = 0; k < device_texts[i].size(); ++k)
                r->overrides.push_back({std::string(types[i]->option), k, device_texts[i][k]});
        }
        config.devices.clear();
        config.restore = *r;
        return std::optional<MachineConfig>(config);
    }
    if (config.kernel) {
        auto k = check_kernel_file(*config.kernel);
        if (!k) return k.error();
    } else {
        if (!config.cmdline.empty())
            return Error(ErrorCode::Usage, "--cmdline needs --kernel");
        if (config.initrd) return Error(ErrorCode::Usage, "--initrd needs --kernel");
        if (config.system_map) return Error(ErrorCode::Usage, "--system-map needs --kernel");
        if (find_demo(config.demo) == nullptr)
            return Error(ErrorCode::Usage, fmt::format("Unknown demo '{}' (see --help)", config.demo));
        if (config.cpus != 1)
            return Error(ErrorCode::Usage, "--cpus: the demo guests run on exactly one vCPU");
    }
    return std::optional<MachineConfig>(config);
}

} // namespace minivmm
