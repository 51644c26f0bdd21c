// libFuzzer target for the stream backend's framing (--net user / stream=PATH): every byte
// comes from the peer (passt, or whatever listens on the socket). The input is split into the
// peer's bytes and the sizes of the pieces they arrive in, and the sizes of the receive
// buffers the device offers. Oracle: StreamIo::recv delivers exactly the frames a plain parse
// of the whole stream finds (empty ones skipped, a length above the bound ends the stream as
// Gone), each behind a zeroed 12-byte header, truncated only when it does not fit the buffer;
// and never reads or writes outside the buffer (ASan).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstring>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "net/stream_io.hpp"
#include "net/vnet_header.hpp"

using namespace minivmm;
using namespace minivmm::net;

namespace {
constexpr size_t HDR = 12;
constexpr size_t MAX_FRAME = 512;   // a small bound, so that the fuzzer reaches it

struct Reference {
    std::vector<std::vector<uint8_t>> frames;
    bool too_long = false;
};

Reference parse_whole(const std::vector<uint8_t>& s) {
    Reference r;
    size_t pos = 0;
    while (s.size() - pos >= 4) {
        const uint32_t len = (uint32_t{s[pos]} << 24) | (uint32_t{s[pos + 1]} << 16) |
                             (uint32_t{s[pos + 2]} << 8) | s[pos + 3];
        if (len > MAX_FRAME) {
            r.too_long = true;
            break;
        }
        if (s.size() - pos - 4 < len) break;
        if (len > 0) r.frames.emplace_back(s.begin() + static_cast<long>(pos + 4),
                                           s.begin() + static_cast<long>(pos + 4 + len));
        pos += 4 + len;
    }
    return r;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    const size_t piece = in.ConsumeIntegralInRange<size_t>(1, 700);
    const size_t buf_size = in.ConsumeIntegralInRange<size_t>(HDR, HDR + MAX_FRAME + 16);
    const std::vector<uint8_t> stream = in.ConsumeRemainingBytes<uint8_t>();

    // The reader alone, fed in pieces, against the whole-stream parse.
    const Reference want = parse_whole(stream);
    {
        FrameReader r(MAX_FRAME);
        std::vector<std::vector<uint8_t>> got;
        bool too_long = false;
        size_t pos = 0;
        for (;;) {
            std::span<const uint8_t> f;
            const bool ready = r.ready();   // the device's wake-up depends on it
            auto n = r.next(f);
            if (ready != (n != FrameReader::Next::NeedMore)) __builtin_trap();
            if (n == FrameReader::Next::Frame) { got.emplace_back(f.begin(), f.end()); continue; }
            if (n == FrameReader::Next::ZeroLength) continue;
            if (n == FrameReader::Next::TooLong) { too_long = true; break; }
            if (pos == stream.size()) break;
            auto space = r.space();
            if (space.empty()) __builtin_trap();
            const size_t k = std::min({piece, space.size(), stream.size() - pos});
            std::memcpy(space.data(), stream.data() + pos, k);
            r.commit(k);
            pos += k;
        }
        if (got != want.frames || too_long != want.too_long) __builtin_trap();
    }

    // StreamIo on a real socket: the same frames, behind a zeroed header. The peer's end does
    // not block: many small pieces fill the socket's buffer (each is an skb of its own) long
    // before 100,000 bytes, and a blocking send would hang the run; such an input stops here.
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) return 0;
    bool all_sent = stream.size() <= 100'000;
    for (size_t pos = 0; all_sent && pos < stream.size(); pos += piece) {
        const size_t n = std::min(piece, stream.size() - pos);
        all_sent = ::send(sv[1], stream.data() + pos, n, 0) == static_cast<ssize_t>(n);
    }
    ::close(sv[1]);   // the peer is done: after its frames, Gone
    if (!all_sent) { ::close(sv[0]); return 0; }
    StreamIo io(UniqueFd(sv[0]), "fuzz", MAX_FRAME);
    (void)io.configure(HDR, 0);
    std::vector<uint8_t> buf(buf_size);
    size_t next = 0;
    for (int guard = 0; guard < 100'000; ++guard) {
        std::fill(buf.begin(), buf.end(), uint8_t{0xcc});
        IoResult r = io.recv(buf);
        if (r.status == IoStatus::Gone) break;
        if (r.status != IoStatus::Ok) __builtin_trap();   // the data is all there: never EAGAIN
        if (next >= want.frames.size()) __builtin_trap();
        const auto& f = want.frames[next++];
        const size_t fits = std::min(f.size(), buf.size() - HDR);
        if (r.bytes != HDR + fits || r.truncated != (f.size() > fits)) __builtin_trap();
        for (size_t i = 0; i < HDR; ++i)
            if (buf[i] != 0) __builtin_trap();
        if (std::memcmp(buf.data() + HDR, f.data(), fits) != 0) __builtin_trap();
    }
    if (next != want.frames.size()) __builtin_trap();
    return 0;
}
