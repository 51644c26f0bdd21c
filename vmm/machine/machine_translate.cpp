// Machine: the walk of one guest virtual address on a running VM (GET /minivmm/translate,
// minivmm ctl SOCKET translate), on the main loop as every command is. The VM is paused for it,
// as for a snapshot: every vCPU parked, so the guest's tables cannot change between minivmm's
// walk and KVM's (KVM_TRANSLATE); the chosen vCPU then runs the walk on its own thread (its
// registers and KVM_TRANSLATE are vCPU ioctls), and the VM is resumed if it was running.
#include <memory>

#include "machine/machine.hpp"

namespace minivmm {

namespace {
// As for a pause: a parked vCPU answers at once; this is for one stuck in minivmm.
constexpr std::chrono::milliseconds WALK_WAIT{2000};
} // namespace

Reply Machine::translate(const TranslateRequest& request) {
    // Client-controlled: the index is checked against this VM's vCPUs before any use.
    if (request.vcpu >= vcpus_.size())
        return {false, fmt::format("vcpu {} out of range: the VM has {} vCPU{}", request.vcpu,
                                   vcpus_.size(), vcpus_.size() == 1 ? "" : "s")};
    const bool was_paused = paused_;
    if (!was_paused) {
        Reply paused = pause();
        if (!paused.ok) return paused;
    }
    // Shared with the task: a task that times out may still run, after this has returned.
    auto result = std::make_shared<std::optional<AddressExplanation>>();
    const AddressExplainer* explainer = explainer_.get();
    const uint64_t gva = request.gva;
    const bool ran = vcpus_[request.vcpu]->run_parked(
        [result, explainer, gva](const Vcpu& vcpu) { *result = explainer->explain(vcpu, gva); },
        WALK_WAIT);
    Reply reply;
    if (!ran || !result->has_value()) {
        reply = {false, fmt::format("translate: vcpu{} did not answer within {} ms",
                                    request.vcpu, WALK_WAIT.count())};
    } else {
        const AddressExplanation& e = **result;
        reply.message = e.walk.gpa ? fmt::format("translate: GVA {:#x} on vcpu{} is GPA {:#x}",
                                                 gva, request.vcpu, *e.walk.gpa)
                                   : fmt::format("translate: GVA {:#x} on vcpu{}: {}", gva,
                                                 request.vcpu, e.walk.stopped);
        reply.explanation = std::move(*result);
    }
    if (!was_paused) {
        Reply resumed = resume();
        if (!resumed.ok) return resumed;
    }
    return reply;
}

} // namespace minivmm
