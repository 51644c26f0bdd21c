// The device registry: one line per device type (see device_type.hpp).
#include "device_registry.hpp"

#include <fmt/format.h>

#include "block/block_registration.hpp"
#include "console/console_registration.hpp"
#include "net/net_registration.hpp"
#include "p9/p9_registration.hpp"
#include "rng/rng_registration.hpp"

namespace minivmm {

namespace {
// Slot order: each type's devices follow those of the types above it.
const DeviceType* const TYPES[] = {
    &block::DEVICE_TYPE,
    &net::DEVICE_TYPE,
    &rng::DEVICE_TYPE,
    &console::DEVICE_TYPE,
    &p9::DEVICE_TYPE,
};
} // namespace

std::span<const DeviceType* const> device_types() { return TYPES; }

const DeviceType* find_device_type(std::string_view option) {
    for (const DeviceType* t : TYPES)
        if (t->option == option) return t;
    return nullptr;
}

Result<void> add_device_option(std::vector<DeviceOption>& options, std::string_view option,
                               const std::string& text) {
    const DeviceType* type = find_device_type(option);
    if (type == nullptr)
        return Error(ErrorCode::Usage, fmt::format("Unknown device option --{}", option));
    std::vector<std::shared_ptr<const DeviceArgs>> earlier;
    for (const DeviceOption& o : options)
        if (o.type == type) earlier.push_back(o.args);
    auto args = type->parse(text, earlier);
    if (!args) return args.error();
    options.push_back({type, std::move(*args), text});
    return {};
}

} // namespace minivmm
