// libFuzzer target for the embedded-config reader (vmm/runner/ikconfig.hpp): any kernel file
// gives a config, "none" with a reason, or an ErrorCode::Input error, within the bounds.
#include <cstddef>
#include <cstdint>
#include <span>

#include "runner/ikconfig.hpp"

using namespace minivmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto c = runner::embedded_config(std::span<const uint8_t>(data, size));
    if (!c) {
        if (c.error().code() != ErrorCode::Input) __builtin_trap();
        return 0;
    }
    if (c->text) {
        if (c->text->size() > runner::MAX_CONFIG_INFLATED) __builtin_trap();
        (void)runner::missing_options(*c->text, runner::runner_needed_options(true));
    } else if (c->why_none.empty()) {
        __builtin_trap();
    }
    return 0;
}
