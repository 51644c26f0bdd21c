#include "machine/control_channel.hpp"

#include <optional>

namespace minivmm {

namespace {
const Reply STOPPED{false, "the VM has stopped"};
}

Result<std::unique_ptr<ControlChannel>> ControlChannel::create() {
    auto wake = EventFd::create();
    if (!wake) return wake.error();
    return std::unique_ptr<ControlChannel>(new ControlChannel(std::move(*wake)));
}

std::future<Reply> ControlChannel::post(Command command) {
    std::promise<Reply> reply;
    std::future<Reply> answer = reply.get_future();
    {
        std::lock_guard lock(mutex_);
        if (!closed_) {
            pending_.push_back({std::move(command), std::move(reply)});
            wake_.signal();
            return answer;
        }
    }
    reply.set_value(STOPPED);
    return answer;
}

void ControlChannel::run_pending(const std::function<Reply(const Command&)>& execute) {
    wake_.consume();
    for (;;) {
        std::optional<Pending> p;
        {
            std::lock_guard lock(mutex_);
            if (pending_.empty()) return;
            p.emplace(std::move(pending_.front()));
            pending_.pop_front();
        }
        // Outside the lock: a command may take a while (parking vCPUs), posts go on meanwhile.
        p->reply.set_value(execute(p->command));
    }
}

void ControlChannel::close() {
    std::deque<Pending> left;
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        left.swap(pending_);
    }
    for (Pending& p : left) p.reply.set_value(STOPPED);
}

} // namespace minivmm
