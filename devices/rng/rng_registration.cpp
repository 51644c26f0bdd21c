// virtio-rng in the device registry: nothing to open on the host (getrandom needs no
// descriptor), so the device is made when the machine realises it.
#include "rng/rng_registration.hpp"

#include <charconv>
#include <fmt/format.h>

#include "rng/rng_device.hpp"

namespace minivmm::rng {

namespace {

struct RngArgs final : DeviceArgs {
    uint64_t rate = RngTuning::DEFAULT_RATE;
    std::string host_end() const override { return fmt::format("getrandom, {} B/s", rate); }
};

class RngInstance final : public DeviceInstance {
public:
    RngInstance(uint64_t rate, size_t index) : rate_(rate), index_(index) {}
    Result<std::shared_ptr<virtio::VirtioDevice>> realise(EventSources& events) override {
        RngTuning tuning;
        tuning.bytes_per_sec = rate_;
        device_ = std::make_shared<RngDevice>(std::make_unique<GetrandomSource>(), events, tuning);
        return std::shared_ptr<virtio::VirtioDevice>(device_);
    }

    // Called once the I/O thread has stopped: the counters are final.
    std::string stats() const override {
        if (!device_) return {};
        const RngDevice::Counters& c = device_->counters();
        return fmt::format("  rng{} ({} B/s): {} bytes in {} requests, {} waits for the rate "
                           "limit, {} source errors\n",
                           index_, rate_, c.bytes, c.requests, c.waits, c.source_errors);
    }

private:
    uint64_t rate_;
    size_t index_;
    std::shared_ptr<RngDevice> device_;
};

Result<std::shared_ptr<const DeviceArgs>> parse(const std::string& text,
                                                std::span<const std::shared_ptr<const DeviceArgs>>) {
    auto rate = parse_rng_option(text);
    if (!rate) return rate.error();
    auto args = std::make_shared<RngArgs>();
    args->rate = *rate;
    return std::shared_ptr<const DeviceArgs>(std::move(args));
}

Result<std::unique_ptr<DeviceInstance>> prepare(const DeviceArgs& args, size_t index) {
    return std::unique_ptr<DeviceInstance>(
        std::make_unique<RngInstance>(static_cast<const RngArgs&>(args).rate, index));
}

} // namespace

Result<uint64_t> parse_rng_option(const std::string& text) {
    if (text.empty()) return RngTuning::DEFAULT_RATE;
    const std::string_view prefix = "rate=";
    uint64_t rate = 0;
    const char* end = text.data() + text.size();
    if (text.rfind(prefix, 0) != 0 || text.size() == prefix.size() ||
        std::from_chars(text.data() + prefix.size(), end, rate).ptr != end)
        return Error(ErrorCode::Usage,
                     fmt::format("--rng '{}': expected rate=BYTES_PER_SEC", text));
    if (rate < RateLimiter::MIN_RATE || rate > RateLimiter::MAX_RATE)
        return Error(ErrorCode::Usage, fmt::format("--rng: rate {} is outside {}..{} bytes/s",
                                                   rate, RateLimiter::MIN_RATE,
                                                   RateLimiter::MAX_RATE));
    return rate;
}

const DeviceType DEVICE_TYPE = {
    "rng", "virtio-rng entropy from the host's getrandom: [rate=BYTES_PER_SEC] (default 1 MiB/s)",
    true, "virtio-rng", RngDevice::NUM_QUEUES, parse, prepare,
    nullptr,   // not overridden on restore
};

} // namespace minivmm::rng
