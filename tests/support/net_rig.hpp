// NetRig: a virtio-net device on a socketpair "tap" with both queues played by GuestDriver
// helpers on real guest memory, for unit tests, fuzz targets and the device benchmark.
#pragma once

#include <memory>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <vector>

#include "fake_device_context.hpp"
#include "guest_driver.hpp"
#include "recording_event_sources.hpp"
#include "net/net_device.hpp"
#include "net/socket_pair_io.hpp"

namespace minivmm::test {

// The net tests' name for it.
using RecordingWatch = RecordingEventSources;

class NetRig {
public:
    // The receive rings and their data from 4 KiB, the transmit ones from half the memory.
    static constexpr GuestAddress RX_RINGS{0x1000};

    // A device on a socketpair (or on `io` when given: then peer is invalid).
    explicit NetRig(uint16_t queue_size = 256, std::unique_ptr<net::PacketIo> io = nullptr,
                    uint64_t mem_size = 64ULL << 20)
        : mem(make(mem_size)), ctx(mem, 2, queue_size), rx(mem, queue_size, RX_RINGS),
          tx(mem, queue_size, GuestAddress(mem_size / 2)) {
        if (!io) {
            auto pair = net::SocketPairIo::create();
            if (!pair) throw std::runtime_error(pair.error().message());
            socket = pair->first.get();
            io = std::move(pair->first);
            peer = std::move(pair->second);
        }
        device = std::make_unique<net::NetDevice>(MAC, std::move(io), &watch);
    }

    // Configures and activates both queues and the device with `features` (what the driver
    // acknowledged). Returns the device's verdict.
    Result<void> activate(uint64_t features) {
        rx.configure(ctx.queue(net::NetDevice::RX_QUEUE), features);
        tx.configure(ctx.queue(net::NetDevice::TX_QUEUE), features);
        MINIVMM_TRY(ctx.queue(0).activate(mem));
        MINIVMM_TRY(ctx.queue(1).activate(mem));
        return device->activate(ctx, features);
    }

    // Peer side of the socketpair: one message, or nothing within `timeout_ms`.
    std::optional<std::vector<uint8_t>> peer_recv(int timeout_ms = 0) const {
        pollfd p{peer.get(), POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) != 1) return std::nullopt;
        std::vector<uint8_t> buf(128 * 1024);
        ssize_t n = ::recv(peer.get(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0) return std::nullopt;
        buf.resize(static_cast<size_t>(n));
        return buf;
    }
    // One message from the "network"; false when the socket is full (a tap's queue drops then).
    bool peer_send(std::span<const uint8_t> message) const {
        return ::send(peer.get(), message.data(), message.size(), MSG_NOSIGNAL | MSG_DONTWAIT) ==
               static_cast<ssize_t>(message.size());
    }

    // Posts one transmit chain holding `bytes`, split into readable buffers of the sizes in
    // `pieces` (one buffer when empty), and notifies the device.
    uint16_t send_tx(std::span<const uint8_t> bytes, std::vector<uint32_t> pieces = {}) {
        if (pieces.empty()) pieces.push_back(static_cast<uint32_t>(bytes.size()));
        std::vector<DriverBuffer> bufs;
        size_t off = 0;
        for (uint32_t len : pieces) {
            GuestAddress a = tx.alloc(len);
            tx.fill(a, bytes.subspan(off, len));
            off += len;
            bufs.push_back({a, len, virtio::Direction::Readable});
        }
        uint16_t head = tx.add_chain(bufs);
        tx.publish();
        return head;
    }
    // Posts one receive chain of writable buffers of the given sizes; returns their addresses.
    std::vector<GuestAddress> post_rx(std::vector<uint32_t> sizes) {
        std::vector<DriverBuffer> bufs;
        std::vector<GuestAddress> addrs;
        for (uint32_t len : sizes) {
            GuestAddress a = rx.alloc(len);
            addrs.push_back(a);
            bufs.push_back({a, len, virtio::Direction::Writable});
        }
        rx.add_chain(bufs);
        rx.publish();
        return addrs;
    }

    void kick_tx() { device->process_queue(ctx, net::NetDevice::TX_QUEUE); }
    void kick_rx() { device->process_queue(ctx, net::NetDevice::RX_QUEUE); }
    void backend_ready() { device->process_backend(ctx); }

    static constexpr net::MacAddress MAC = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

    GuestMemory mem;
    FakeDeviceContext ctx;
    GuestDriver rx, tx;
    RecordingWatch watch;
    std::unique_ptr<net::NetDevice> device;
    net::SocketPairIo* socket = nullptr;   // the device's end, when on a socketpair
    UniqueFd peer;

private:
    static GuestMemory make(uint64_t size) {
        auto m = GuestMemory::create({{GuestAddress(0), size}});
        if (!m) throw std::runtime_error(m.error().message());
        return std::move(*m);
    }
};

} // namespace minivmm::test
