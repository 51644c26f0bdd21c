#include "net/frame_reader.hpp"

#include <cstring>

namespace minivmm::net {

FrameReader::FrameReader(size_t max_frame)
    : max_frame_(max_frame), buf_(LENGTH_BYTES + max_frame) {}

std::span<uint8_t> FrameReader::space() {
    if (end_ == buf_.size() && begin_ > 0) {
        // Move the partial frame to the front: it fits, since it is at most prefix + bound.
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    return {buf_.data() + end_, buf_.size() - end_};
}

void FrameReader::commit(size_t n) { end_ += n; }

FrameReader::Next FrameReader::next(std::span<const uint8_t>& frame) {
    const size_t have = end_ - begin_;
    if (have < LENGTH_BYTES) return Next::NeedMore;
    const uint8_t* p = buf_.data() + begin_;
    const uint32_t len = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
    if (len > max_frame_) return Next::TooLong;
    if (len == 0) {
        begin_ += LENGTH_BYTES;
        return Next::ZeroLength;
    }
    if (have - LENGTH_BYTES < len) {
        if (begin_ > 0 && end_ == buf_.size()) (void)space();   // make room for the rest
        return Next::NeedMore;
    }
    frame = {p + LENGTH_BYTES, len};
    begin_ += LENGTH_BYTES + len;
    if (begin_ == end_) begin_ = end_ = 0;
    return Next::Frame;
}

bool FrameReader::ready() const {
    const size_t have = end_ - begin_;
    if (have < LENGTH_BYTES) return false;
    const uint8_t* p = buf_.data() + begin_;
    const uint32_t len = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
    return len == 0 || len > max_frame_ || have - LENGTH_BYTES >= len;
}

void FrameReader::encode_length(uint32_t len, uint8_t out[LENGTH_BYTES]) {
    out[0] = static_cast<uint8_t>(len >> 24);
    out[1] = static_cast<uint8_t>(len >> 16);
    out[2] = static_cast<uint8_t>(len >> 8);
    out[3] = static_cast<uint8_t>(len);
}

} // namespace minivmm::net
