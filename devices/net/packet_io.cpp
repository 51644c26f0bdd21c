// PacketIo's default batch send: one send() per frame.
#include "net/packet_io.hpp"

namespace minivmm::net {

size_t PacketIo::send_batch(std::span<const std::span<const iovec>> frames,
                            std::span<IoResult> results) noexcept {
    for (size_t i = 0; i < frames.size(); ++i) {
        results[i] = send(frames[i]);
        if (results[i].status == IoStatus::WouldBlock || results[i].status == IoStatus::Gone)
            return i + 1;
    }
    return frames.size();
}

} // namespace minivmm::net
