// NetCounters: what one virtio-net device did, for --stats (frames and bytes each way, drops by
// reason). Updated on the device's thread only; read after it stopped.
#pragma once

#include <cstdint>
#include <string>

namespace minivmm::net {

struct NetCounters {
    uint64_t tx_frames = 0, tx_bytes = 0;   // sent to the backend (vnet header excluded)
    uint64_t rx_frames = 0, rx_bytes = 0;   // delivered to the guest (vnet header excluded)

    // Transmit drops; the chain is completed with used length 0.
    uint64_t tx_bad_chain = 0;        // unparsable chain or a device-writable descriptor
    uint64_t tx_short = 0;            // shorter than the vnet header
    uint64_t tx_too_big = 0;          // longer than header + MAX_FRAME_SIZE
    uint64_t tx_bad_header = 0;       // offload or flags not negotiated (check_tx_header)
    uint64_t tx_io_errors = 0;        // the backend refused the frame (EIO, EMSGSIZE, ...)
    uint64_t tx_backend_gone = 0;     // dropped because the tap vanished
    uint64_t tx_would_block = 0;      // EAGAIN: waited for EPOLLOUT (not a drop)

    // Receive drops (frames from the backend the guest never saw).
    uint64_t rx_bad_chain = 0;        // unparsable chain or a device-readable descriptor
    uint64_t rx_no_room = 0;          // frame larger than the posted buffers
    uint64_t rx_short = 0;            // shorter than the vnet header
    uint64_t rx_too_big = 0;          // longer than header + MAX_FRAME_SIZE (or truncated)
    uint64_t rx_bad_header = 0;       // an offload the guest did not accept
    uint64_t rx_io_errors = 0;        // read errors other than EAGAIN
    uint64_t rx_no_buffers = 0;       // times the tap was left unread for lack of buffers

    // The backend vanishing (link down) and coming back (link up).
    uint64_t link_lost = 0;
    uint64_t link_back = 0;

    uint64_t tx_drops() const {
        return tx_bad_chain + tx_short + tx_too_big + tx_bad_header + tx_io_errors +
               tx_backend_gone;
    }
    uint64_t rx_drops() const {
        return rx_bad_chain + rx_no_room + rx_short + rx_too_big + rx_bad_header + rx_io_errors;
    }
};

// The --stats lines for device `name` ("net0 (tap0)"): totals, then every non-zero drop reason.
std::string format_net_counters(const std::string& name, const NetCounters& c);

} // namespace minivmm::net
