#include "net/frame_reader.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace minivmm::net {
namespace {

std::vector<uint8_t> framed(const std::string& payload) {
    std::vector<uint8_t> out(4);
    FrameReader::encode_length(static_cast<uint32_t>(payload.size()), out.data());
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

// Feeds `bytes` to `r` in pieces of `step` and collects the frames and events; checks ready()
// against every next().
std::vector<std::string> feed(FrameReader& r, const std::vector<uint8_t>& bytes, size_t step,
                              int* zero = nullptr, bool* too_long = nullptr) {
    std::vector<std::string> frames;
    size_t pos = 0;
    for (;;) {
        std::span<const uint8_t> f;
        const bool ready = r.ready();   // says in advance whether next() needs more bytes
        auto n = r.next(f);
        EXPECT_EQ(ready, n != FrameReader::Next::NeedMore);
        if (n == FrameReader::Next::Frame) {
            frames.emplace_back(reinterpret_cast<const char*>(f.data()), f.size());
            continue;
        }
        if (n == FrameReader::Next::ZeroLength) {
            if (zero) ++*zero;
            continue;
        }
        if (n == FrameReader::Next::TooLong) {
            if (too_long) *too_long = true;
            return frames;
        }
        if (pos == bytes.size()) return frames;
        auto space = r.space();
        EXPECT_FALSE(space.empty());
        const size_t k = std::min({step, space.size(), bytes.size() - pos});
        std::memcpy(space.data(), bytes.data() + pos, k);
        r.commit(k);
        pos += k;
    }
}

TEST(FrameReader, ReassemblesFramesSplitAtEveryByte) {
    std::vector<uint8_t> stream;
    for (const char* p : {"a", "hello", "the third frame"}) {
        auto f = framed(p);
        stream.insert(stream.end(), f.begin(), f.end());
    }
    for (size_t step : {1u, 2u, 3u, 5u, 7u, 64u}) {
        FrameReader r(100);
        EXPECT_EQ(feed(r, stream, step),
                  (std::vector<std::string>{"a", "hello", "the third frame"}))
            << "step " << step;
    }
}

TEST(FrameReader, SkipsZeroLengthFrames) {
    std::vector<uint8_t> stream = framed("");
    auto f = framed("x");
    stream.insert(stream.end(), f.begin(), f.end());
    FrameReader r(10);
    int zero = 0;
    EXPECT_EQ(feed(r, stream, 1, &zero), std::vector<std::string>{"x"});
    EXPECT_EQ(zero, 1);
}

TEST(FrameReader, AFrameOfTheBoundPassesAndOneAboveEndsTheStream) {
    FrameReader r(65550);
    const std::string max(65550, 'm');
    EXPECT_EQ(feed(r, framed(max), 4096), std::vector<std::string>{max});

    for (uint32_t len : {65551u, 65535u * 2, 0xffffffffu}) {
        FrameReader bad(65550);
        std::vector<uint8_t> prefix(4);
        FrameReader::encode_length(len, prefix.data());
        bool too_long = false;
        EXPECT_TRUE(feed(bad, prefix, 1, nullptr, &too_long).empty());
        EXPECT_TRUE(too_long) << len;
    }
}

TEST(FrameReader, KeepsWorkingAcrossManyFullBuffers) {
    // Frames of sizes that never line up with the buffer: the partial one is moved to the
    // front again and again.
    std::vector<uint8_t> stream;
    std::vector<std::string> want;
    for (int i = 0; i < 200; ++i) {
        std::string p(static_cast<size_t>(1 + (i * 37) % 100), static_cast<char>('a' + i % 26));
        want.push_back(p);
        auto f = framed(p);
        stream.insert(stream.end(), f.begin(), f.end());
    }
    FrameReader r(100);
    EXPECT_EQ(feed(r, stream, 33), want);
}

} // namespace
} // namespace minivmm::net
