// VanishingIo: a PacketIo that can vanish and come back like a deleted and re-created tap, for
// the virtio-net tests: it passes frames to a SocketPairIo while present, answers Gone (EBADFD,
// what a deleted tap's descriptor gives) while gone, and reattach() succeeds once the test
// says the tap exists again.
#pragma once

#include <cerrno>
#include <memory>

#include "net/socket_pair_io.hpp"

namespace minivmm::test {

class VanishingIo final : public net::PacketIo {
public:
    explicit VanishingIo(std::unique_ptr<net::SocketPairIo> inner) : inner_(std::move(inner)) {}

    net::IoResult send(std::span<const iovec> pieces) noexcept override {
        return gone ? net::IoResult{net::IoStatus::Gone, 0, EBADFD} : inner_->send(pieces);
    }
    net::IoResult recv(std::span<uint8_t> buffer) noexcept override {
        return gone ? net::IoResult{net::IoStatus::Gone, 0, EBADFD} : inner_->recv(buffer);
    }
    int fd() const override { return inner_->fd(); }
    Result<void> configure(size_t vnet_hdr_size, unsigned tun_offloads) override {
        if (gone) return Error(ErrorCode::Host, "TUNSETVNETHDRSZ", EBADFD);
        return inner_->configure(vnet_hdr_size, tun_offloads);
    }
    std::string name() const override { return "vanishing"; }
    bool reattachable() const override { return true; }
    bool reattach() noexcept override {
        ++reattach_calls;
        if (!exists_again) return false;
        gone = false;
        exists_again = false;
        return true;
    }

    net::SocketPairIo& inner() { return *inner_; }

    bool gone = false;           // the "tap" is deleted
    bool exists_again = false;   // one of its name was created again: the next reattach works
    unsigned reattach_calls = 0;

private:
    std::unique_ptr<net::SocketPairIo> inner_;
};

} // namespace minivmm::test
