#include "machine/vm_control.hpp"

namespace minivmm {

void VmControl::finish(Outcome outcome) {
    {
        std::lock_guard lock(mutex_);
        if (outcome_) return;
        outcome_ = std::move(outcome);
    }
    finished_.store(true, std::memory_order_release);
    done_.signal();
}

void VmControl::add_to_report(const std::string& text) {
    std::lock_guard lock(mutex_);
    if (outcome_) outcome_->report += text;
}

Outcome VmControl::outcome() const {
    std::lock_guard lock(mutex_);
    return outcome_.value_or(Outcome{});
}

} // namespace minivmm
