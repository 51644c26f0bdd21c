// Machine: pause and resume (the control channel's commands, run on the main loop). Pausing
// parks the vCPUs first (no more register accesses or notifications from the guest), then
// pauses each virtio device's core, which waits for a queue pass in progress: once pause()
// returns, nothing touches guest memory and the guest makes no progress. The serial console
// keeps reading stdin (Ctrl-a p must get through); what else is typed waits in the UART's FIFO.
#include <cstdio>
#include <unistd.h>

#include "machine/machine.hpp"

namespace minivmm {

namespace {
// How long a vCPU may take to park: it leaves KVM_RUN at once and an exit handler is short,
// so a vCPU that does not answer in this time is stuck in minivmm (a state report says where).
constexpr std::chrono::milliseconds PARK_WAIT{2000};
constexpr const char* RESUMED = "resumed";
} // namespace

namespace {
// One line on stderr for every command, whoever sent it. On the raw terminal it starts on a line
// of its own (the guest's output may have stopped mid-line) and ends with \r\n.
void announce(const Reply& reply) {
    const char* eol = ::isatty(STDERR_FILENO) ? "\r\n" : "\n";
    std::fprintf(stderr, "%sminivmm: %s%s", *eol == '\r' ? eol : "", reply.message.c_str(), eol);
}
} // namespace

Reply Machine::execute(const Command& command) {
    // A resume cannot fail: its line comes before the vCPUs run again, so that it comes before
    // anything the guest writes afterwards, never in the middle of a line of the guest's.
    const bool resuming = paused_ && (command.kind == Command::Resume ||
                                      command.kind == Command::TogglePause);
    if (resuming) {
        const Reply reply{true, RESUMED};
        announce(reply);
        resume();
        return reply;
    }
    Reply reply;
    switch (command.kind) {
    case Command::Pause: reply = pause(); break;
    case Command::Resume: reply = resume(); break;
    case Command::TogglePause: reply = pause(); break;
    case Command::ResetLine:
        // What a guest's own reset through the i8042 ends in (a reboot ends minivmm), asked
        // from outside: the API's SendCtrlAltDel. The guest is not asked to shut down; the
        // disks are flushed at the end as for every ending.
        control_->finish({Ending::Reboot, 0, "SendCtrlAltDel: the i8042 reset line; exiting"});
        reply = {true, "reset line pulsed: the VM ends"};
        break;
    case Command::Snapshot: reply = snapshot(command.snapshot); break;
    case Command::Translate: reply = translate(command.translate); break;
    }
    announce(reply);
    return reply;
}

Reply Machine::pause() {
    if (paused_) return {true, "already paused"};
    for (size_t i = 0; i < vcpus_.size(); ++i) {
        vcpus_[i]->request_pause();
        vcpus_[i]->kick(vcpu_threads_[i].native_handle());
    }
    for (size_t i = 0; i < vcpus_.size(); ++i) {
        if (vcpus_[i]->wait_parked(PARK_WAIT)) continue;
        for (auto& v : vcpus_) v->request_resume();
        return {false, fmt::format("pause failed: vcpu{} did not stop within {} ms (SIGUSR2 "
                                   "shows where it is)", i, PARK_WAIT.count())};
    }
    for (const VirtioSlot& slot : virtio_slots_) slot.core->pause();
    for (const auto& device : devices_) device->paused();   // e.g. the disks made durable
    paused_ = true;
    return {true, "paused (Ctrl-a p resumes)"};
}

Reply Machine::resume() {
    if (!paused_) return {true, "not paused"};
    for (const VirtioSlot& slot : virtio_slots_) slot.core->resume();
    // Notifications that came while the devices were paused were dropped: every queue is
    // looked at again on the I/O thread (a queue with nothing available costs one check).
    for (const auto& fd : notify_fds_) fd->signal();
    for (auto& v : vcpus_) v->request_resume();
    paused_ = false;
    return {true, RESUMED};
}

} // namespace minivmm
