// PacketIo: where a network device's frames go and come from, its backend: a tap device (Tap),
// a stream socket to passt or another peer of its framing (StreamIo) or, in tests, one end of
// a socketpair (SocketPairIo). Every frame is preceded by the virtio-net header of the size
// set by configure(), as on a tap with IFF_VNET_HDR (a backend without one adds and removes
// it: carries_vnet_header()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <sys/uio.h>

#include "base/result.hpp"

namespace minivmm::net {

enum class IoStatus : uint8_t {
    Ok,
    WouldBlock,   // EAGAIN: wait for EPOLLIN / EPOLLOUT on fd()
    Gone,         // the tap was deleted (EBADFD) or the peer closed: see reattach()
    Failed,       // this frame failed (EIO, EMSGSIZE, EINVAL, ...); the next one may not
};

struct IoResult {
    IoStatus status;
    size_t bytes = 0;     // Ok: bytes sent, or bytes received
    int err = 0;          // errno for WouldBlock, Gone, Failed
    bool truncated = false;   // recv: the frame was larger than the buffer (when the backend knows)
};

class PacketIo {
public:
    virtual ~PacketIo() = default;
    // Sends one frame (vnet header included) gathered from `pieces`. Non-blocking.
    virtual IoResult send(std::span<const iovec> pieces) noexcept = 0;
    // Sends several frames, each gathered from its pieces; results[i] is frame i's. Returns how
    // many frames were tried, from the first: at least one when `frames` is not empty. The
    // caller offers the untried ones again. A frame that would block (WouldBlock) is to be
    // offered again once fd() is writable. This default sends one by one and stops after a
    // frame that would block or found the backend gone; a backend may instead try them all in
    // one system call (Tap, through io_uring): then frames after one that would block may have
    // been sent.
    virtual size_t send_batch(std::span<const std::span<const iovec>> frames,
                              std::span<IoResult> results) noexcept;
    // Receives one frame (vnet header included) into `buffer`. Non-blocking.
    virtual IoResult recv(std::span<uint8_t> buffer) noexcept = 0;
    // The descriptor to watch for readiness (EPOLLIN: a frame to receive; EPOLLOUT: room to send).
    virtual int fd() const = 0;
    // Called when the driver set DRIVER_OK: the vnet header size and the offloads (TUN_F_*) the
    // guest accepts on receive. A tap applies them (TUNSETVNETHDRSZ, TUNSETOFFLOAD).
    virtual Result<void> configure(size_t vnet_hdr_size, unsigned tun_offloads) = 0;
    // For messages: "tap0", "socketpair".
    virtual std::string name() const = 0;

    // Whether the backend itself carries the vnet header and so can take and give frames with
    // offloads (a partial checksum, a segment of 64 KiB); false: the device offers none.
    virtual bool carries_vnet_header() const { return true; }
    // A frame the backend accepted (send() said Ok) is partly still in its hands: the device
    // watches for EPOLLOUT and calls flush_output() (Ok once it is all out, WouldBlock, Gone).
    virtual bool output_pending() const { return false; }
    virtual IoResult flush_output() noexcept { return {IoStatus::Ok}; }

    // Whether recv() has a frame already read from fd(), which fd() will not signal (EPOLLIN
    // says only that the descriptor has bytes): a stream reads many frames at once. The device
    // then wakes itself instead of waiting for EPOLLIN.
    virtual bool input_buffered() const { return false; }

    // After Gone: whether the backend can ever come back (a tap deleted and created again
    // under its name can; a socketpair's closed peer cannot). The device retries only then.
    virtual bool reattachable() const { return false; }
    // One attempt to attach again after Gone: true when the backend works again, on the same
    // fd() (the caller then calls configure() anew), false when not yet. Non-blocking.
    virtual bool reattach() noexcept { return false; }
};

} // namespace minivmm::net
