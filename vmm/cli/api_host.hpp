// ApiHost: the API's view of the VM (api::VmmControl) on top of Machine, shared by the API
// thread and the main thread. A start request is handed to the main thread, which builds the
// Machine (Machine::create and run() belong to it: the signal mask, the seccomp order) and
// answers; pause, resume and SendCtrlAltDel go through the machine's control channel, the one
// way every command reaches a running VM (Ctrl-a p uses it too).
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>

#include "api/api_router.hpp"
#include "base/event_fd.hpp"
#include "machine/machine.hpp"

namespace minivmm {

class ApiHost final : public api::VmmControl {
public:
    explicit ApiHost(EventFd wake) : wake_(std::move(wake)) {}

    // The API thread.
    api::InstanceState state() override;
    Result<void> start(const MachineConfig& config) override;
    Reply command(Command command) override;

    // The main thread: readable when a start request waits; take it, then answer it.
    int wake_fd() const { return wake_.fd(); }
    std::optional<MachineConfig> take_start_request();
    void answer_start(Result<void> answer);
    // The machine the API manages from now on (run() is about to start), or none (it ended:
    // later commands are refused).
    void set_machine(Machine* machine);

private:
    EventFd wake_;
    std::mutex mutex_;   // guards everything below
    std::condition_variable answered_;
    std::optional<MachineConfig> request_;
    std::optional<Result<void>> answer_;
    Machine* machine_ = nullptr;
    bool ended_ = false;
};

} // namespace minivmm
