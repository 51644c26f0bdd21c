// virtio-9p in the device registry: the share's directory is opened before /dev/kvm (errors
// name it), the device made when the machine realises it.
#include "p9/p9_registration.hpp"

#include <optional>

#include <fmt/format.h>

#include "p9/p9_device.hpp"

namespace minivmm::p9 {

namespace {

struct ShareArgs final : DeviceArgs {
    ShareSpec spec;
    std::string host_end() const override {
        return fmt::format("{} as '{}', {}", spec.dir, spec.tag, spec.writable ? "rw" : "read-only");
    }
};

class ShareInstance final : public DeviceInstance {
public:
    ShareInstance(ShareSpec spec, ShareRoot root, size_t index)
        : spec_(std::move(spec)), root_(std::move(root)), index_(index) {}

    Result<std::shared_ptr<virtio::VirtioDevice>> realise(EventSources&) override {
        if (!root_) return Error(ErrorCode::Host, "virtio-9p realised twice");
        auto server = std::make_unique<P9Server>(std::move(*root_),
                                                 spec_.writable ? Access::ReadWrite : Access::ReadOnly);
        root_.reset();
        device_ = std::make_shared<P9Device>(spec_.tag, std::move(server));
        return std::shared_ptr<virtio::VirtioDevice>(device_);
    }

    // Called once the I/O thread has stopped: the counters are final.
    std::string stats() const override {
        if (!device_) return {};
        const P9Device::Counters& c = device_->counters();
        return fmt::format("  share{} ({} as '{}'): {} requests, {} refused chains\n", index_,
                           spec_.dir, spec_.tag, c.requests, c.refused);
    }

private:
    ShareSpec spec_;
    std::optional<ShareRoot> root_;
    size_t index_;
    std::shared_ptr<P9Device> device_;
};

Result<std::shared_ptr<const DeviceArgs>> parse(const std::string& text,
                                                std::span<const std::shared_ptr<const DeviceArgs>> earlier) {
    std::vector<ShareSpec> specs;
    for (const auto& a : earlier) specs.push_back(static_cast<const ShareArgs&>(*a).spec);
    auto spec = parse_share(text, specs);
    if (!spec) return spec.error();
    auto args = std::make_shared<ShareArgs>();
    args->spec = std::move(*spec);
    return std::shared_ptr<const DeviceArgs>(std::move(args));
}

Result<std::unique_ptr<DeviceInstance>> prepare(const DeviceArgs& args, size_t index) {
    const ShareSpec& spec = static_cast<const ShareArgs&>(args).spec;
    auto root = ShareRoot::open(spec.dir);
    if (!root) return root.error();
    return std::unique_ptr<DeviceInstance>(
        std::make_unique<ShareInstance>(spec, std::move(*root), index));
}

} // namespace

Result<std::vector<DeviceOption>> share_options(std::span<const ShareSpec> shares) {
    std::vector<DeviceOption> options;
    for (size_t i = 0; i < shares.size(); ++i) {
        MINIVMM_TRY(check_share(shares[i], shares.first(i)));
        auto args = std::make_shared<ShareArgs>();
        args->spec = shares[i];
        options.push_back({&DEVICE_TYPE, std::move(args),
                           fmt::format("{},tag={}{}", shares[i].dir, shares[i].tag,
                                       shares[i].writable ? ",rw" : "")});
    }
    return options;
}

const DeviceType DEVICE_TYPE = {
    "share",
    "Share a host directory with the guest over virtio-9p: DIR[,tag=TAG][,rw] (read-only "
    "unless rw; default tags share0, share1, ...; in Linux: mount -t 9p -o "
    "trans=virtio,version=9p2000.L TAG DIR)",
    false, "virtio-9p", P9Device::NUM_QUEUES, parse, prepare,
    nullptr,   // not overridden on restore
};

} // namespace minivmm::p9
