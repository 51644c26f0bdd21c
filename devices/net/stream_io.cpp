#include "net/stream_io.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>

#include "net/tap.hpp"

namespace minivmm::net {

StreamIo::StreamIo(UniqueFd fd, std::string name, size_t max_frame)
    : fd_(std::move(fd)), name_(std::move(name)), reader_(max_frame) {
    const int flags = ::fcntl(fd_.get(), F_GETFL);
    if (flags >= 0) ::fcntl(fd_.get(), F_SETFL, flags | O_NONBLOCK);
}

Result<void> StreamIo::configure(size_t vnet_hdr_size, unsigned) {
    hdr_size_ = vnet_hdr_size;
    return {};
}

IoResult StreamIo::flush_output() noexcept {
    while (out_pos_ < out_.size()) {
        const ssize_t n = ::send(fd_.get(), out_.data() + out_pos_, out_.size() - out_pos_,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            return {io_status_for_errno(errno), 0, errno};
        }
        out_pos_ += static_cast<size_t>(n);
    }
    out_.clear();
    out_pos_ = 0;
    return {IoStatus::Ok};
}

IoResult StreamIo::send(std::span<const iovec> pieces) noexcept {
    if (broken_) return {IoStatus::Gone, 0, EPROTO};
    if (output_pending()) {
        // The rest of an earlier frame goes first; this one waits until it has.
        IoResult r = flush_output();
        if (r.status != IoStatus::Ok) return r;
    }
    size_t total = 0;
    for (const iovec& p : pieces) total += p.iov_len;
    if (total < hdr_size_ || total - hdr_size_ > MAX_FRAME_SIZE) return {IoStatus::Failed, 0, EINVAL};
    const size_t frame_len = total - hdr_size_;
    uint8_t prefix[FrameReader::LENGTH_BYTES];
    FrameReader::encode_length(static_cast<uint32_t>(frame_len), prefix);

    iov_.clear();
    iov_.push_back({prefix, sizeof prefix});
    size_t skip = hdr_size_;   // the vnet header, which the stream does not carry
    for (const iovec& p : pieces) {
        if (p.iov_len <= skip) {
            skip -= p.iov_len;
            continue;
        }
        iov_.push_back({static_cast<uint8_t*>(p.iov_base) + skip, p.iov_len - skip});
        skip = 0;
    }
    msghdr msg{};
    msg.msg_iov = iov_.data();
    msg.msg_iovlen = iov_.size();
    ssize_t n;
    do {
        n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return {io_status_for_errno(errno), 0, errno};

    size_t sent = static_cast<size_t>(n);
    if (sent < sizeof prefix + frame_len) {
        // Part of the frame is on its way: keep the rest, which goes before anything else.
        out_.clear();
        out_pos_ = 0;
        for (const iovec& v : iov_) {
            const auto* b = static_cast<const uint8_t*>(v.iov_base);
            if (sent >= v.iov_len) {
                sent -= v.iov_len;
                continue;
            }
            out_.insert(out_.end(), b + sent, b + v.iov_len);
            sent = 0;
        }
    }
    return {IoStatus::Ok, total};
}

IoResult StreamIo::recv(std::span<uint8_t> buffer) noexcept {
    if (broken_) return {IoStatus::Gone, 0, EPROTO};
    for (;;) {
        std::span<const uint8_t> frame;
        switch (reader_.next(frame)) {
        case FrameReader::Next::Frame: {
            if (buffer.size() < hdr_size_) return {IoStatus::Ok, 0, 0, true};
            const size_t room = buffer.size() - hdr_size_;
            const size_t n = std::min(room, frame.size());
            // A header that asks nothing (no checksum to finish, no segmentation); the
            // device sets num_buffers.
            std::memset(buffer.data(), 0, hdr_size_);
            std::memcpy(buffer.data() + hdr_size_, frame.data(), n);
            return {IoStatus::Ok, hdr_size_ + n, 0, frame.size() > room};
        }
        case FrameReader::Next::ZeroLength:
            ++empty_frames_;
            continue;
        case FrameReader::Next::TooLong:
            broken_ = true;
            return {IoStatus::Gone, 0, EPROTO};
        case FrameReader::Next::NeedMore:
            break;
        }
        std::span<uint8_t> space = reader_.space();
        const ssize_t n = ::recv(fd_.get(), space.data(), space.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            return {io_status_for_errno(errno), 0, errno};
        }
        if (n == 0) return {IoStatus::Gone, 0, EPIPE};   // the peer closed its end
        reader_.commit(static_cast<size_t>(n));
    }
}

} // namespace minivmm::net
