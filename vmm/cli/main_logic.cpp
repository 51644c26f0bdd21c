// minivmm_main: parse, build, run, and map every ending to the documented exit code.
#include <csignal>
#include <cstdio>
#include <string_view>

#include "base/log.hpp"
#include "cli/cli.hpp"
#include "cli/run.hpp"
#include "machine/machine.hpp"

namespace minivmm {

namespace {
int exit_code_for(const Error& error) {
    switch (error.code()) {
    case ErrorCode::Usage: return exit_code::USAGE;
    case ErrorCode::Input: return exit_code::INPUT;
    case ErrorCode::KvmUnusable: return exit_code::KVM_UNUSABLE;
    default: return exit_code::HOST;
    }
}

} // namespace

int fail(const Error& error) {
    std::fputs(error_line(error).c_str(), stderr);
    return exit_code_for(error);
}

int finish_run(const Result<Outcome>& outcome) {
    if (!outcome) return fail(outcome.error());
    if (is_clean_ending(outcome->ending))
        log(LogLevel::Info, "{}", outcome->report);
    else if (outcome->ending != Ending::GuestStatus)
        std::fprintf(stderr, "minivmm: error: %s\n", outcome->report.c_str());
    return outcome->process_exit_code();
}

std::string error_line(const Error& error) {
    std::string line = "minivmm: error: ";
    for (char c : error.message()) {
        auto u = static_cast<unsigned char>(c);
        if (c == '\n') line += "\\n";
        else if (c == '\t') line += "\\t";
        else if (u < 0x20 || u == 0x7f) line += fmt::format("\\x{:02x}", u);
        else line += c;
    }
    return line + "\n";
}

int minivmm_main(int argc, char** argv) {
    // A closed stdout must not kill the VMM; SIGINT/SIGTERM/SIGUSR2 are taken by the main thread's
    // signalfd (blocked here, before any thread starts, so every thread inherits the mask).
    std::signal(SIGPIPE, SIG_IGN);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGUSR2);   // the state report on request, also read from the signalfd
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    if (argc >= 2 && std::string_view(argv[1]) == "ctl") return ctl_main(argc - 2, argv + 2);
    auto config = parse_command_line(argc, argv);
    if (!config) return fail(config.error());
    if (!config->has_value()) return 0;

    if ((*config)->dump_dtb) {
        auto dumped = Machine::dump_device_tree(**config);
        return dumped ? 0 : fail(dumped.error());
    }
    if ((*config)->api_socket) return run_with_api(**config);
    auto machine = Machine::create(**config);
    if (!machine) return fail(machine.error());
    return finish_run((*machine)->run());
}

} // namespace minivmm
