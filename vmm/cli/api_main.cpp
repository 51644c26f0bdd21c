// run_with_api: minivmm with --api-socket. The API thread serves the socket from the start.
// With a kernel or a demo on the command line the VM is built and runs at once; without, the
// main thread waits for the API's InstanceStart (or SIGINT/SIGTERM) and builds the VM from the
// configuration the API gathered. When the VM ends, the API thread stops, the socket file is
// removed, and minivmm exits as it would without the API.
#include <csignal>
#include <poll.h>
#include <pthread.h>
#include <sys/signalfd.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include "api/api_server.hpp"
#include "base/log.hpp"
#include "cli/api_host.hpp"
#include "cli/cli.hpp"
#include "cli/run.hpp"
#include "sandbox/seccomp_filter.hpp"

namespace minivmm {

namespace {

// Waits for InstanceStart and builds the machine from it; a start that fails is answered with
// its error and the wait goes on. Null with `code` set: a signal ended the wait.
std::unique_ptr<Machine> wait_for_start(ApiHost& host, int& code) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    UniqueFd signals(::signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK));
    for (;;) {
        pollfd fds[2] = {{host.wake_fd(), POLLIN, 0}, {signals.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) continue;
        signalfd_siginfo info{};
        if ((fds[1].revents & POLLIN) &&
            ::read(signals.get(), &info, sizeof info) == sizeof info) {
            code = info.ssi_signo == SIGTERM ? exit_code::SIGTERM_CODE : exit_code::SIGINT_CODE;
            return nullptr;
        }
        if (!(fds[0].revents & POLLIN)) continue;
        auto config = host.take_start_request();
        if (!config) continue;
        if (config->kernel) {
            if (auto k = check_kernel_file(*config->kernel); !k) {
                host.answer_start(k.error());
                continue;
            }
        }
        auto machine = Machine::create(*config);
        if (!machine) {
            log(LogLevel::Warn, "api: InstanceStart failed: {}", machine.error().message());
            host.answer_start(machine.error());
            continue;
        }
        host.set_machine(machine->get());
        host.answer_start({});
        return std::move(*machine);
    }
}

} // namespace

int run_with_api(const MachineConfig& config) {
    auto server = api::ApiServer::bind(*config.api_socket);
    if (!server) return fail(server.error());
    std::optional<sandbox::SeccompFilter> filter;
    if (config.seccomp) {
        auto built = sandbox::SeccompFilter::build(sandbox::API);
        if (!built) return fail(built.error());
        if (auto h = sandbox::install_sigsys_handler(); !h) return fail(h.error());
        filter.emplace(std::move(*built));
    }
    auto wake = EventFd::create();
    if (!wake) return fail(wake.error());
    ApiHost host(std::move(*wake));
    api::ApiRouter router(api::VmResources(config), host, fmt::format("minivmm-{}", ::getpid()));

    std::unique_ptr<Machine> machine;
    int code = 0;
    if (!config.start_from_api) {   // a full command line: the VM starts now
        auto made = Machine::create(config);
        if (!made) return fail(made.error());
        machine = std::move(*made);
        host.set_machine(machine.get());
    }
    std::thread api_thread([&server, &router, &filter] {
        // Confined from its first request: the thread reads clients' bytes.
        if (filter && !filter->load()) {
            // Unconfined, no request is served: the whole process stops, as a SIGTERM does.
            std::fputs("minivmm: error: api: cannot load the seccomp filter\n", stderr);
            ::kill(::getpid(), SIGTERM);
            return;
        }
        (*server)->serve([&router](const api::HttpRequest& r) { return router.handle(r); });
    });
    pthread_setname_np(api_thread.native_handle(), "api");
    log(LogLevel::Info, "api: listening on {}", config.api_socket->c_str());
    if (!machine) machine = wait_for_start(host, code);
    if (machine) code = finish_run(machine->run());
    host.set_machine(nullptr);   // commands from now on are refused
    (*server)->stop();
    api_thread.join();
    return code;
}

} // namespace minivmm
