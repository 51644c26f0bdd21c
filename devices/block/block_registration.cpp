// virtio-blk in the device registry: the image is opened and locked before /dev/kvm (errors
// name it), and made durable (fdatasync) once every thread has stopped.
#include "block/block_registration.hpp"

#include <fmt/format.h>

#include "base/log.hpp"
#include "block/block_device.hpp"
#include "block/file_backend.hpp"
#include "memory/layout.hpp"

namespace minivmm::block {

namespace {

struct DiskArgs final : DeviceArgs {
    DiskConfig disk;
    std::string host_end() const override { return disk.path; }
};

class DiskInstance final : public DeviceInstance {
public:
    DiskInstance(std::shared_ptr<BlockDevice> device, std::string path)
        : device_(std::move(device)), path_(std::move(path)) {}

    Result<std::shared_ptr<virtio::VirtioDevice>> realise(EventSources&) override {
        return std::shared_ptr<virtio::VirtioDevice>(device_);
    }

    // A writable disk's completed writes are made durable before minivmm exits, whatever
    // ended the VM (the guest, a fault, the timeout, SIGTERM or SIGINT): nothing writes any
    // more. A failure is one error line; the exit code stays that of the ending.
    void at_exit() noexcept override { flush("at exit"); }
    void paused() noexcept override { flush("while paused"); }

private:
    void flush(const char* when) noexcept {
        if (device_->backend().read_only()) return;
        auto flushed = device_->backend().flush();
        if (!flushed)
            log(LogLevel::Error, "disk {}: flushing the image {} failed: {}", path_, when,
                flushed.error().message());
        else if (device_->flush_failed())
            log(LogLevel::Error, "disk {}: a flush failed while the guest ran: its writes may "
                "not all be in the image", path_);
        else
            log(LogLevel::Info, "disk {}: flushed {}", path_, when);
    }

    std::shared_ptr<BlockDevice> device_;
    std::string path_;
};

Result<std::shared_ptr<const DeviceArgs>> parse(
    const std::string& text, std::span<const std::shared_ptr<const DeviceArgs>> earlier) {
    if (earlier.size() >= layout::VIRTIO_MMIO_MAX_DEVICES)
        return Error(ErrorCode::Usage, fmt::format("--disk: at most {} disks",
                                                   layout::VIRTIO_MMIO_MAX_DEVICES));
    auto disk = parse_disk_option(text);
    if (!disk) return disk.error();
    auto args = std::make_shared<DiskArgs>();
    args->disk = std::move(*disk);
    return std::shared_ptr<const DeviceArgs>(std::move(args));
}

// Opens and locks the image (errors name it; nothing else has started yet).
Result<std::unique_ptr<DeviceInstance>> prepare(const DeviceArgs& args, size_t) {
    const DiskConfig& d = static_cast<const DiskArgs&>(args).disk;
    auto backend = FileBackend::open(d.path, d.read_only ? Access::ReadOnly : Access::ReadWrite);
    if (!backend) return backend.error();
    return std::unique_ptr<DeviceInstance>(std::make_unique<DiskInstance>(
        std::make_shared<BlockDevice>(std::move(*backend), d.serial), d.path));
}

// The snapshot's disk on another image: the path is `given`'s; read-only and the serial stay
// the snapshot's (the guest negotiated the one and read the other), so `given` may repeat
// them but not change them. The image's size is checked when the device's state is restored.
Result<std::string> restore_override(const DeviceArgs& recorded, const DeviceArgs& given) {
    const DiskConfig& was = static_cast<const DiskArgs&>(recorded).disk;
    const DiskConfig& now = static_cast<const DiskArgs&>(given).disk;
    if (now.read_only && !was.read_only)
        return Error(ErrorCode::Input,
                     fmt::format("--disk {}: the snapshot's disk {} is writable: the guest "
                                 "cannot be told it became read-only", now.path, was.path));
    if (!now.serial.empty() && now.serial != was.serial)
        return Error(ErrorCode::Input,
                     fmt::format("--disk {}: the guest read the serial '{}' of the snapshot's "
                                 "disk {}, not '{}'", now.path, was.serial, was.path, now.serial));
    std::string text = now.path;
    if (was.read_only) text += ",ro";
    if (!was.serial.empty()) text += ",serial=" + was.serial;
    return text;
}

} // namespace

Result<DiskConfig> parse_disk_option(const std::string& text) {
    DiskConfig disk;
    size_t comma = text.find(',');
    disk.path = text.substr(0, comma);
    if (disk.path.empty()) return Error(ErrorCode::Usage, fmt::format("--disk '{}': no path", text));
    while (comma != std::string::npos) {
        size_t next = text.find(',', comma + 1);
        std::string opt = text.substr(comma + 1, next == std::string::npos ? next : next - comma - 1);
        comma = next;
        if (opt == "ro") {
            disk.read_only = true;
        } else if (opt.rfind("serial=", 0) == 0) {
            disk.serial = opt.substr(7);
            if (disk.serial.size() > 20)
                return Error(ErrorCode::Usage,
                             fmt::format("--disk {}: serial '{}' is longer than 20 bytes",
                                         disk.path, disk.serial));
        } else {
            return Error(ErrorCode::Usage,
                         fmt::format("--disk {}: unknown option '{}' (ro, serial=ID)", disk.path, opt));
        }
    }
    return disk;
}

const DeviceType DEVICE_TYPE = {
    "disk", "virtio-blk disk: a raw image, PATH[,ro][,serial=ID] (repeatable)", false,
    "virtio-blk", BlockDevice::NUM_QUEUES, parse, prepare, restore_override,
};

} // namespace minivmm::block
