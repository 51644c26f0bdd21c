// Tap: a PacketIo on a Linux tap device (Documentation/networking/tuntap.rst), opened by name
// with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, non-blocking.
#pragma once

#include <memory>
#include <string>

#include "base/unique_fd.hpp"
#include "net/packet_io.hpp"

namespace minivmm::net {

class UringWriter;

class Tap : public PacketIo {
public:
    // Opens the tap `name`. When it does not exist and we hold CAP_NET_ADMIN the kernel creates
    // it (not persistent: it goes away with minivmm) and a warning says so; without the
    // capability the error says how to create it (`ip tuntap add ... mode tap`). A tun device, a
    // multi-queue tap, a tap of another user or one in use give an error naming the cause.
    // Errors are ErrorCode::Input; the tun path is a parameter for tests.
    static Result<std::unique_ptr<Tap>> open(const std::string& name,
                                             const std::string& tun_path = "/dev/net/tun");
    ~Tap() override;

    IoResult send(std::span<const iovec> pieces) noexcept override;
    // Through the tap's UringWriter when it has one (one system call per batch), else
    // PacketIo's frame-by-frame default.
    size_t send_batch(std::span<const std::span<const iovec>> frames,
                      std::span<IoResult> results) noexcept override;
    IoResult recv(std::span<uint8_t> buffer) noexcept override;
    int fd() const override { return fd_.get(); }
    // TUNSETVNETHDRSZ to `vnet_hdr_size`, TUNSETOFFLOAD to `tun_offloads` (exactly those).
    Result<void> configure(size_t vnet_hdr_size, unsigned tun_offloads) override;
    std::string name() const override { return name_; }
    bool created() const { return created_; }

    // A deleted tap comes back when an interface of its name exists again and is up:
    // TUNSETIFF attaches the same descriptor to it (a detached tun descriptor can be attached
    // anew), so fd() and the io_uring ring stay valid. Never creates the tap: if none of that
    // name exists, or it is down (SIOCGIFFLAGS on a socket opened with the tap, before
    // seccomp), false. A tun, a multi-queue tap or one another process holds: false.
    bool reattachable() const override { return probe_.get() >= 0; }
    bool reattach() noexcept override;
    // Whether batches go through io_uring. open() sets one up when the kernel allows it. A
    // tap's send buffer is unlimited (tun sets it so at open; minivmm never changes it), so a
    // write never waits for room and the unlinked requests of a batch cannot overtake one
    // another. A ring that fails is dropped; benchmarks and tests may turn it off.
    bool batching() const { return uring_ != nullptr; }
    void disable_batching();

private:
    Tap(UniqueFd fd, std::string name, bool created);

    UniqueFd fd_;
    UniqueFd probe_;   // AF_UNIX datagram socket for SIOCGIFFLAGS (reattach); -1: none
    std::string name_;
    bool created_;
    std::unique_ptr<UringWriter> uring_;
};

// errno of a read/write on a tap or socket -> IoStatus (EAGAIN: WouldBlock; EBADFD, EBADF,
// ENODEV, EPIPE, ECONNRESET: Gone; anything else: Failed).
IoStatus io_status_for_errno(int err);

} // namespace minivmm::net
