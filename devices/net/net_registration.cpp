// virtio-net in the device registry. The tap is opened in Machine::create before /dev/kvm (a
// missing tap or permission is reported as such on any host), but not for --dump-dtb.
#include "net/net_registration.hpp"

#include <fmt/format.h>

#include "net/net_counters.hpp"
#include "net/net_device.hpp"
#include "net/net_spec.hpp"
#include "net/passt.hpp"
#include "net/stream_io.hpp"
#include "net/tap.hpp"

namespace minivmm::net {

namespace {

struct NetArgs final : DeviceArgs {
    NetSpec spec;
    std::string host_end() const override {
        switch (spec.backend) {
        case NetBackend::User: return "passt";
        case NetBackend::Stream: return spec.path;
        case NetBackend::Tap: break;
        }
        return spec.tap;
    }
    std::optional<std::string> snapshot_refusal() const override {
        if (spec.backend != NetBackend::User) return std::nullopt;
        return "a card on --net user cannot be snapshotted: its connections live in the passt "
               "minivmm started, which a snapshot cannot hold (use a tap)";
    }
};

class NetInstance final : public DeviceInstance {
public:
    NetInstance(NetSpec spec, size_t index) : spec_(std::move(spec)), index_(index) {}

    Result<void> open_host() override {
        switch (spec_.backend) {
        case NetBackend::Tap: {
            auto tap = Tap::open(spec_.tap);
            if (!tap) return tap.error().with_context(fmt::format("--net {}", spec_.tap));
            io_ = std::move(*tap);
            break;
        }
        case NetBackend::User: {
            auto passt = start_passt(spec_.forwards, spec_.log);
            if (!passt) return passt.error();
            io_ = std::make_unique<StreamIo>(std::move(passt->socket),
                                             fmt::format("passt (pid {})", passt->pid));
            break;
        }
        case NetBackend::Stream: {
            auto fd = connect_stream(spec_.path);
            if (!fd) return fd.error();
            io_ = std::make_unique<StreamIo>(std::move(*fd), "stream " + spec_.path);
            break;
        }
        }
        return {};
    }

    // The backend's readiness reaches the device through `events` (EPOLLIN while it has
    // receive buffers, EPOLLOUT while a send waits).
    Result<std::shared_ptr<virtio::VirtioDevice>> realise(EventSources& events) override {
        name_ = fmt::format("net{} ({})", index_, io_->name());
        device_ = std::make_shared<NetDevice>(spec_.mac, std::move(io_), &events);
        return std::shared_ptr<virtio::VirtioDevice>(device_);
    }

    // Called once the I/O thread has stopped: the counters are final.
    std::string stats() const override {
        return device_ ? format_net_counters(name_, device_->counters()) : std::string();
    }

private:
    NetSpec spec_;
    size_t index_;
    std::unique_ptr<PacketIo> io_;   // opened by open_host, moved into the device by realise
    std::string name_;           // "net0 (tap0)", for --stats
    std::shared_ptr<NetDevice> device_;
};

// A tap or an explicit MAC may appear once.
Result<std::shared_ptr<const DeviceArgs>> parse(
    const std::string& text, std::span<const std::shared_ptr<const DeviceArgs>> earlier) {
    auto spec = parse_net_spec(text);
    if (!spec) return spec.error();
    size_t users = 0;
    for (const auto& e : earlier)
        users += static_cast<const NetArgs&>(*e).spec.backend == NetBackend::User;
    if (spec->backend == NetBackend::User && !spec->mac_given && users > 0)
        spec->mac = generated_mac(fmt::format("user{}", users));
    for (const auto& e : earlier) {
        const NetSpec& other = static_cast<const NetArgs&>(*e).spec;
        if (spec->backend == NetBackend::Tap && other.backend == NetBackend::Tap &&
            other.tap == spec->tap)
            return Error(ErrorCode::Usage, fmt::format("--net: tap {} given twice", spec->tap));
        if (other.mac == spec->mac)
            return Error(ErrorCode::Usage,
                         fmt::format("--net: MAC {} given twice", format_mac(spec->mac)));
    }
    auto args = std::make_shared<NetArgs>();
    args->spec = std::move(*spec);
    return std::shared_ptr<const DeviceArgs>(std::move(args));
}

Result<std::unique_ptr<DeviceInstance>> prepare(const DeviceArgs& args, size_t index) {
    return std::unique_ptr<DeviceInstance>(
        std::make_unique<NetInstance>(static_cast<const NetArgs&>(args).spec, index));
}

// The snapshot's card on another tap or stream socket, with the MAC the guest read from it.
Result<std::string> restore_override(const DeviceArgs& recorded, const DeviceArgs& given) {
    const NetSpec& was = static_cast<const NetArgs&>(recorded).spec;
    const NetSpec& now = static_cast<const NetArgs&>(given).spec;
    const std::string mac = format_mac(was.mac);
    if (now.mac_given && now.mac != was.mac)
        return Error(ErrorCode::Input,
                     fmt::format("--net {}: the guest read the MAC {} from the snapshot's card "
                                 "{}, not {}", given.host_end(), mac, recorded.host_end(),
                                 format_mac(now.mac)));
    switch (now.backend) {
    case NetBackend::Tap: return fmt::format("tap={},mac={}", now.tap, mac);
    case NetBackend::Stream: return fmt::format("stream={},mac={}", now.path, mac);
    case NetBackend::User: break;
    }
    return Error(ErrorCode::Input, "--net user: a restored card goes on a tap or on "
                                   "stream=PATH; minivmm does not snapshot cards on passt");
}

} // namespace

const DeviceType DEVICE_TYPE = {
    "net",
    "Virtio-net card: on a tap (NAME or tap=NAME), on passt started by minivmm "
    "(user[,hostfwd=tcp:[ADDR]:HOSTPORT-:GUESTPORT]...[,log=PATH]) or on a unix socket in "
    "passt's framing (stream=PATH); each with [,mac=MAC] (repeatable)",
    false,
    "virtio-net", NetDevice::NUM_QUEUES, parse, prepare, restore_override,
};

} // namespace minivmm::net
