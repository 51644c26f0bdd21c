// StreamIo: a PacketIo on a connected SOCK_STREAM socket that carries Ethernet frames the way
// passt and QEMU's "stream" netdev do: a 4-byte big-endian length, then the frame, with no
// virtio-net header. The device's frames carry one (as on a tap), so StreamIo removes it on
// the way out and puts a zeroed one in front on the way in; the card offers the guest no
// checksum or segmentation offloads on such a backend (carries_vnet_header() is false), so
// every frame is complete both ways.
//
// Back-pressure: a frame the socket takes only part of is still the guest's sent frame; its
// rest is kept (output_pending()) and written before any other, when the socket has room
// (flush_output(), on EPOLLOUT). So at most one frame is held, the guest is never told a
// frame went out that will not, and no thread ever blocks on the socket.
#pragma once

#include <string>
#include <vector>

#include "base/unique_fd.hpp"
#include "net/frame_reader.hpp"
#include "net/packet_io.hpp"
#include "net/vnet_header.hpp"

namespace minivmm::net {

class StreamIo : public PacketIo {
public:
    // `fd`: a connected stream socket (made non-blocking here). `name`: for messages. Frames
    // the peer announces above `max_frame` end the stream (tests and fuzzing use a small one).
    StreamIo(UniqueFd fd, std::string name, size_t max_frame = MAX_FRAME_SIZE);

    IoResult send(std::span<const iovec> pieces) noexcept override;
    // A frame larger than `buffer` (less the header) is reported truncated and consumed.
    IoResult recv(std::span<uint8_t> buffer) noexcept override;
    int fd() const override { return fd_.get(); }
    // Records the header size; offloads are never asked of a stream (none were offered).
    Result<void> configure(size_t vnet_hdr_size, unsigned tun_offloads) override;
    std::string name() const override { return name_; }
    bool carries_vnet_header() const override { return false; }
    bool output_pending() const override { return out_pos_ < out_.size(); }
    IoResult flush_output() noexcept override;
    bool input_buffered() const override { return !broken_ && reader_.ready(); }

    // Frames of length 0 the peer sent (skipped).
    uint64_t empty_frames() const { return empty_frames_; }

private:
    UniqueFd fd_;
    std::string name_;
    size_t hdr_size_ = 12;
    FrameReader reader_;
    std::vector<uint8_t> out_;   // the unsent rest of a frame, from out_pos_
    size_t out_pos_ = 0;
    std::vector<iovec> iov_;     // send()'s gather list, kept to avoid an allocation per frame
    bool broken_ = false;        // the peer sent a length above the bound
    uint64_t empty_frames_ = 0;
};

} // namespace minivmm::net
