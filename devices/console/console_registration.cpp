// virtio-console in the device registry. The host end (stdout and stdin, the file, the
// listening socket) is opened in Machine::create before /dev/kvm, but not for --dump-dtb.
#include "console/console_registration.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include "console/console_spec.hpp"
#include "console/fd_host.hpp"
#include "console/socket_host.hpp"

namespace minivmm::console {

namespace {

struct ConsoleArgs final : DeviceArgs {
    ConsoleSpec spec;
    std::string host_end() const override { return spec.text(); }
    bool takes_stdin() const override { return spec.kind == ConsoleSpec::Kind::Stdio; }
};

Result<std::unique_ptr<ConsoleHost>> open_host_end(const ConsoleSpec& spec) {
    switch (spec.kind) {
    case ConsoleSpec::Kind::Stdio: {
        auto h = FdHost::stdio();
        if (!h) return h.error();
        return std::unique_ptr<ConsoleHost>(std::move(*h));
    }
    case ConsoleSpec::Kind::Stdout:
    case ConsoleSpec::Kind::Stderr: {
        const bool out = spec.kind == ConsoleSpec::Kind::Stdout;
        auto h = FdHost::output_only(out ? STDOUT_FILENO : STDERR_FILENO, spec.text());
        if (!h) return h.error();
        return std::unique_ptr<ConsoleHost>(std::move(*h));
    }
    case ConsoleSpec::Kind::File: {
        auto h = FdHost::append_file(spec.path);
        if (!h) return h.error();
        return std::unique_ptr<ConsoleHost>(std::move(*h));
    }
    case ConsoleSpec::Kind::Socket: {
        auto h = SocketHost::listen(spec.path);
        if (!h) return h.error();
        return std::unique_ptr<ConsoleHost>(std::move(*h));
    }
    }
    return Error(ErrorCode::Invalid, "console: unknown host end");
}

class ConsoleInstance final : public DeviceInstance {
public:
    ConsoleInstance(ConsoleSpec spec, size_t index) : spec_(std::move(spec)), index_(index) {}

    Result<void> open_host() override {
        auto host = open_host_end(spec_);
        if (!host) return host.error().with_context(fmt::format("--console {}", spec_.text()));
        host_ = std::move(*host);
        return {};
    }

    Result<std::shared_ptr<virtio::VirtioDevice>> realise(EventSources& events) override {
        device_ = std::make_shared<ConsoleDevice>(std::move(host_), events);
        return std::shared_ptr<virtio::VirtioDevice>(device_);
    }

    // Called once the I/O thread has stopped: the counters are final.
    std::string stats() const override {
        return device_ ? format_console_counters(fmt::format("console{}", index_), *device_)
                       : std::string();
    }

private:
    ConsoleSpec spec_;
    size_t index_;
    std::unique_ptr<ConsoleHost> host_;   // opened by open_host, moved into the device
    std::shared_ptr<ConsoleDevice> device_;
};

// stdio may be taken once; a file or socket path once.
Result<std::shared_ptr<const DeviceArgs>> parse(
    const std::string& text, std::span<const std::shared_ptr<const DeviceArgs>> earlier) {
    auto spec = parse_console_spec(text);
    if (!spec) return spec.error();
    for (const auto& e : earlier) {
        const ConsoleSpec& other = static_cast<const ConsoleArgs&>(*e).spec;
        if (other.kind == spec->kind && other.path == spec->path)
            return Error(ErrorCode::Usage, fmt::format("--console {} given twice", text));
    }
    auto args = std::make_shared<ConsoleArgs>();
    args->spec = std::move(*spec);
    return std::shared_ptr<const DeviceArgs>(std::move(args));
}

Result<std::unique_ptr<DeviceInstance>> prepare(const DeviceArgs& args, size_t index) {
    return std::unique_ptr<DeviceInstance>(
        std::make_unique<ConsoleInstance>(static_cast<const ConsoleArgs&>(args).spec, index));
}

} // namespace

std::string format_console_counters(const std::string& name, const ConsoleDevice& device) {
    const ConsoleDevice::Counters& c = device.counters();
    std::string line = fmt::format(
        "  {} ({}): {} bytes out in {} chains, {} dropped; {} bytes in", name,
        device.host().name(), c.bytes_out, c.chains_out, c.dropped, c.bytes_in);
    if (device.host().connections() > 0)
        line += fmt::format("; {} clients", device.host().connections());
    if (c.refused > 0) line += fmt::format("; {} chains refused", c.refused);
    return line + "\n";
}

const DeviceType DEVICE_TYPE = {
    "console",
    "virtio-console (hvc0): stdio, stdout or stderr (output only), file=PATH (output appended) "
    "or socket=PATH (a unix socket minivmm listens on, one client at a time)",
    false, "virtio-console", ConsoleDevice::NUM_QUEUES, parse, prepare,
    nullptr,   // not overridden on restore
};

} // namespace minivmm::console
