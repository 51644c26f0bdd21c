// Machine: the state report that explains a hang. Printed when --timeout, SIGTERM or SIGINT
// stops the VM (appended to the ending's message) and on SIGUSR2 while it runs: every vCPU
// (run state, registers, symbol, local APIC, pending events), every virtio device (status,
// interrupt status, ring indexes on both sides), and the serial port.
#include <fmt/format.h>

#include "machine/machine.hpp"
#include "virtio/transport_report.hpp"

namespace minivmm {

namespace {
// How long the report waits for one vCPU's answer or one device's lock: a thread that does
// not answer in this time is itself the finding ("busy in minivmm").
constexpr std::chrono::milliseconds ANSWER_WAIT{1000};
} // namespace

std::string Machine::state_report(std::vector<std::thread>& threads, double seconds) {
    console_->flush();   // the guest's output so far comes before the report (and is counted)
    std::string out = fmt::format("state after {:.1f} s:\nmachine: {}\n", seconds,
                                  paused_ ? "paused (Ctrl-a p or a resume command continues it)"
                                          : "running");
    for (size_t i = 0; i < vcpus_.size() && i < threads.size(); ++i) {
        auto state = vcpus_[i]->request_state(
            threads[i].native_handle(), ANSWER_WAIT);
        if (!state)
            out += fmt::format("vcpu{}: no answer within {} ms (its thread is busy in minivmm, "
                               "handling an exit)\n", i, ANSWER_WAIT.count());
        else if (!*state)
            out += fmt::format("vcpu{}: state unavailable: {}\n", i, state->error().message());
        else
            out += format_vcpu_state(**state, symbols_);
    }
    for (const VirtioSlot& slot : virtio_slots_) {
        auto view = slot.core->view(ANSWER_WAIT);
        if (view) out += virtio::format_transport_view(slot.label, *view);
        else out += fmt::format("{}: busy (its lock stayed held for {} ms: a thread is inside "
                                "the device)\n", slot.label, ANSWER_WAIT.count());
    }
    out += fmt::format("serial: {}; {}\n", console_->counters(), serial_->describe());
    return out;
}

} // namespace minivmm
