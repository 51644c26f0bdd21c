// FrameReader: frames out of a byte stream in which each frame is a 4-byte big-endian length
// followed by that many bytes (the framing of passt and of QEMU's "stream" netdev).
//
// Trust boundary: every byte comes from the peer (passt, or whatever listens on --net
// stream=PATH). A length of 0 is skipped; a length above the bound cannot be resynchronised
// (nothing marks where the next frame starts), so it ends the stream: the caller drops the
// connection. The buffer never grows: it holds one frame of the bound and its length prefix.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace minivmm::net {

class FrameReader {
public:
    static constexpr size_t LENGTH_BYTES = 4;

    explicit FrameReader(size_t max_frame);

    // Where to read more bytes into, then commit(n) with how many arrived. Never empty while
    // next() says NeedMore.
    std::span<uint8_t> space();
    void commit(size_t n);

    enum class Next : uint8_t {
        Frame,        // `frame` is the next frame (valid until the next call)
        NeedMore,     // no whole frame buffered: read more
        ZeroLength,   // a frame of length 0 was skipped
        TooLong,      // a length above the bound: the stream is unusable from here
    };
    Next next(std::span<const uint8_t>& frame);
    // Whether next() would answer without more bytes (a frame, an empty one or a bad length is
    // buffered): the descriptor it was read from may then have nothing more to say.
    bool ready() const;

    // The length prefix of a frame of `len` bytes.
    static void encode_length(uint32_t len, uint8_t out[LENGTH_BYTES]);

private:
    size_t max_frame_;
    std::vector<uint8_t> buf_;
    size_t begin_ = 0;   // first unconsumed byte
    size_t end_ = 0;     // one past the last byte read
};

} // namespace minivmm::net
