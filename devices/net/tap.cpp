// Tap device backend: open by name, vnet header size and offloads, non-blocking frame I/O.
#include "net/tap.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.hpp"
#include "net/uring_writer.hpp"

namespace minivmm::net {

IoStatus io_status_for_errno(int err) {
    switch (err) {
    case EAGAIN: return IoStatus::WouldBlock;
    case EBADFD: case EBADF: case ENODEV: case ENXIO: case EPIPE: case ECONNRESET:
        return IoStatus::Gone;
    default: return IoStatus::Failed;
    }
}

namespace {
// The request every tap of minivmm is attached with (TUNSETIFF), and the name for SIOCGIFFLAGS.
ifreq tap_ifreq(const std::string& name) {
    ifreq ifr{};
    name.copy(ifr.ifr_name, IFNAMSIZ - 1);
    ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
    return ifr;
}

// /sys/class/net/NAME/tun_flags: the IFF_* flags a tun/tap device was created with, if any.
std::optional<unsigned> sysfs_tun_flags(const std::string& name) {
    std::ifstream in("/sys/class/net/" + name + "/tun_flags");
    unsigned flags = 0;
    if (!(in >> std::hex >> flags)) return std::nullopt;
    return flags;
}

std::string how_to_create(const std::string& name) {
    return fmt::format("create it first: ip tuntap add dev {} mode tap user $(id -un) && ip "
                       "link set {} up",
                       name, name);
}

Error open_error(const std::string& name, bool existed, int err) {
    if (!existed && err == EPERM)
        return Error(ErrorCode::Input,
                     fmt::format("Tap device {} does not exist and minivmm may not create it (no "
                                 "CAP_NET_ADMIN); {}",
                                 name, how_to_create(name)));
    // sysfs names the kind of device when it shows this network namespace.
    const auto flags = existed ? sysfs_tun_flags(name) : std::nullopt;
    if (flags && (*flags & IFF_TUN))
        return Error(ErrorCode::Input,
                     fmt::format("{} is a tun device, minivmm needs a tap (mode tap)", name));
    if (flags && (*flags & IFF_MULTI_QUEUE))
        return Error(ErrorCode::Input,
                     fmt::format("Tap {} is multi-queue; minivmm uses single-queue taps (ip "
                                 "tuntap add dev {} mode tap, without multi_queue)",
                                 name, name));
    if (err == EPERM)
        return Error(ErrorCode::Input,
                     fmt::format("No permission to use tap {} (it belongs to another user or "
                                 "group: ip tuntap add dev {} mode tap user $(id -un))",
                                 name, name),
                     err);
    if (err == EBUSY)
        return Error(ErrorCode::Input,
                     fmt::format("Tap {} is in use by another process", name), err);
    if (err == EINVAL)
        return Error(ErrorCode::Input,
                     fmt::format("{} is not a single-queue tap device (a tun device, a "
                                 "multi-queue tap, or not a tun/tap interface)",
                                 name));
    return Error(ErrorCode::Input, fmt::format("Cannot attach to tap {}", name), err);
}
} // namespace

Result<std::unique_ptr<Tap>> Tap::open(const std::string& name, const std::string& tun_path) {
    if (name.empty() || name.size() >= IFNAMSIZ)
        return Error(ErrorCode::Usage, fmt::format("Invalid tap name '{}'", name));
    const bool existed = ::if_nametoindex(name.c_str()) != 0;
    int raw = ::open(tun_path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (raw < 0)
        return sys_error(ErrorCode::Input, fmt::format("Cannot open {} for tap {}", tun_path, name));
    UniqueFd fd(raw);
    ifreq ifr = tap_ifreq(name);
    if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) return open_error(name, existed, errno);
    if (!existed)
        log(LogLevel::Warn,
            "tap device {} did not exist: created it (it goes away when minivmm exits; "
            "configure it with ip link set {} up)",
            name, name);
    std::unique_ptr<Tap> tap(new Tap(std::move(fd), name, !existed));
    // Without it the tap still works; it only cannot be attached again once deleted.
    tap->probe_ = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (tap->probe_.get() < 0)
        log(LogLevel::Warn, "tap {}: no socket to watch for it ({}): not re-attached if deleted",
            name, std::strerror(errno));
    auto uring = UringWriter::create(tap->fd());
    if (uring)
        tap->uring_ = std::move(*uring);
    else
        log(LogLevel::Debug, "tap {}: no io_uring ({}), one write per frame", name,
            uring.error().message());
    return tap;
}

Tap::Tap(UniqueFd fd, std::string name, bool created)
    : fd_(std::move(fd)), name_(std::move(name)), created_(created) {}

Tap::~Tap() = default;

void Tap::disable_batching() { uring_.reset(); }

bool Tap::reattach() noexcept {
    ifreq ifr = tap_ifreq(name_);
    // TUNSETIFF would create a missing tap: attach only to one that exists again, and only
    // once it is up (a write to a tap that is down fails with EIO: the guest would see its
    // link up and every frame dropped).
    if (probe_.get() < 0 || ::ioctl(probe_.get(), SIOCGIFFLAGS, &ifr) < 0) return false;
    if (!(ifr.ifr_flags & IFF_UP)) return false;
    ifr = tap_ifreq(name_);
    if (::ioctl(fd_.get(), TUNSETIFF, &ifr) < 0) {
        log(LogLevel::Debug, "tap {}: cannot attach again yet: {}", name_, std::strerror(errno));
        return false;
    }
    return true;
}

Result<void> Tap::configure(size_t vnet_hdr_size, unsigned offloads) {
    int size = static_cast<int>(vnet_hdr_size);
    if (::ioctl(fd_.get(), TUNSETVNETHDRSZ, &size) < 0)
        return sys_error(ErrorCode::Host, fmt::format("TUNSETVNETHDRSZ {} on tap {}", size, name_));
    if (::ioctl(fd_.get(), TUNSETOFFLOAD, static_cast<unsigned long>(offloads)) < 0)
        return sys_error(ErrorCode::Host,
                         fmt::format("TUNSETOFFLOAD {:#x} on tap {}", offloads, name_));
    return {};
}

IoResult Tap::send(std::span<const iovec> pieces) noexcept {
    // One piece (the usual case, see NetDevice::queue_tx): write(2), which skips writev's
    // copy and check of the iovec array.
    ssize_t n = pieces.size() == 1
                    ? ::write(fd_.get(), pieces[0].iov_base, pieces[0].iov_len)
                    : ::writev(fd_.get(), pieces.data(), static_cast<int>(pieces.size()));
    if (n < 0) return {io_status_for_errno(errno), 0, errno};
    return {IoStatus::Ok, static_cast<size_t>(n)};
}

size_t Tap::send_batch(std::span<const std::span<const iovec>> frames,
                       std::span<IoResult> results) noexcept {
    if (uring_) {
        if (size_t n = uring_->write_batch(frames, results)) return n;
        // The ring failed (see UringWriter::write_batch): drop it, frame by frame from now on.
        log(LogLevel::Warn, "tap {}: io_uring refused a batch; one write per frame from now on",
            name_);
        uring_.reset();
    }
    return PacketIo::send_batch(frames, results);
}

IoResult Tap::recv(std::span<uint8_t> buffer) noexcept {
    ssize_t n = ::read(fd_.get(), buffer.data(), buffer.size());
    if (n < 0) return {io_status_for_errno(errno), 0, errno};
    return {IoStatus::Ok, static_cast<size_t>(n)};
}

} // namespace minivmm::net
