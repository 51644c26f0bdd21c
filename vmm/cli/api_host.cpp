#include "cli/api_host.hpp"

namespace minivmm {

api::InstanceState ApiHost::state() {
    std::lock_guard lock(mutex_);
    if (machine_ == nullptr && !ended_) return api::InstanceState::NotStarted;
    return machine_ != nullptr && machine_->paused() ? api::InstanceState::Paused
                                                     : api::InstanceState::Running;
}

Result<void> ApiHost::start(const MachineConfig& config) {
    std::unique_lock lock(mutex_);
    if (machine_ != nullptr || ended_ || request_)
        return Error(ErrorCode::Usage, "The microVM is already started");
    request_ = config;
    answer_.reset();
    wake_.signal();
    answered_.wait(lock, [this] { return answer_.has_value(); });
    Result<void> answer = std::move(*answer_);
    answer_.reset();
    return answer;
}

Reply ApiHost::command(Command command) {
    std::future<Reply> reply;
    {
        // Posted under the lock: set_machine(nullptr) waits, so the channel outlives the post;
        // the reply comes after the lock (a closed channel answers at once).
        std::lock_guard lock(mutex_);
        if (machine_ == nullptr) return {false, "the VM is not running"};
        reply = machine_->control_channel().post(command);
    }
    return reply.get();
}

std::optional<MachineConfig> ApiHost::take_start_request() {
    wake_.consume();
    std::lock_guard lock(mutex_);
    return request_;
}

void ApiHost::answer_start(Result<void> answer) {
    std::lock_guard lock(mutex_);
    request_.reset();
    answer_ = std::move(answer);
    answered_.notify_all();
}

void ApiHost::set_machine(Machine* machine) {
    std::lock_guard lock(mutex_);
    machine_ = machine;
    if (machine == nullptr) ended_ = true;
}

} // namespace minivmm
