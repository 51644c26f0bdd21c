// SocketPairIo: a PacketIo on one end of an AF_UNIX SOCK_SEQPACKET socketpair, standing in for a
// tap in tests, fuzz targets and benchmarks: each message is one frame with its vnet header.
#pragma once

#include <memory>

#include "base/unique_fd.hpp"
#include "net/packet_io.hpp"

namespace minivmm::net {

class SocketPairIo : public PacketIo {
public:
    // The device's end (non-blocking) and the peer's end (blocking, for the test to use).
    static Result<std::pair<std::unique_ptr<SocketPairIo>, UniqueFd>> create();

    IoResult send(std::span<const iovec> pieces) noexcept override;
    // A message larger than `buffer` is reported truncated (MSG_TRUNC).
    IoResult recv(std::span<uint8_t> buffer) noexcept override;
    int fd() const override { return fd_.get(); }
    Result<void> configure(size_t vnet_hdr_size, unsigned tun_offloads) override;
    std::string name() const override { return "socketpair"; }

    // What configure() was last given (tests check that offloads follow the negotiation).
    size_t vnet_hdr_size() const { return vnet_hdr_size_; }
    unsigned offloads() const { return offloads_; }
    unsigned configure_calls() const { return configure_calls_; }

private:
    explicit SocketPairIo(UniqueFd fd) : fd_(std::move(fd)) {}

    UniqueFd fd_;
    size_t vnet_hdr_size_ = 10;
    unsigned offloads_ = 0;
    unsigned configure_calls_ = 0;
};

} // namespace minivmm::net
