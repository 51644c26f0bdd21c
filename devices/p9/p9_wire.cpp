// WireReader / WireWriter (see p9_wire.hpp).
#include "p9/p9_wire.hpp"

#include <algorithm>

namespace minivmm::p9 {

bool WireReader::take(size_t count) {
    if (!ok_ || count > bytes_.size() - pos_) {
        ok_ = false;
        return false;
    }
    return true;
}

namespace {
template <typename T>
T load_le(const uint8_t* p) {
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>(v | static_cast<T>(T{p[i]} << (8 * i)));
    return v;
}
} // namespace

uint8_t WireReader::u8() {
    if (!take(1)) return 0;
    return bytes_[pos_++];
}

uint16_t WireReader::u16() {
    if (!take(2)) return 0;
    const uint16_t v = load_le<uint16_t>(bytes_.data() + pos_);
    pos_ += 2;
    return v;
}

uint32_t WireReader::u32() {
    if (!take(4)) return 0;
    const uint32_t v = load_le<uint32_t>(bytes_.data() + pos_);
    pos_ += 4;
    return v;
}

uint64_t WireReader::u64() {
    if (!take(8)) return 0;
    const uint64_t v = load_le<uint64_t>(bytes_.data() + pos_);
    pos_ += 8;
    return v;
}

std::string_view WireReader::str(size_t max) {
    const uint16_t len = u16();
    if (!ok_) return {};
    if (len > max) {
        ok_ = false;
        return {};
    }
    auto b = bytes(len);
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

std::span<const uint8_t> WireReader::bytes(size_t count) {
    if (!take(count)) return {};
    auto s = bytes_.subspan(pos_, count);
    pos_ += count;
    return s;
}

WireWriter::WireWriter(std::vector<uint8_t>& out, size_t capacity)
    : out_(out), capacity_(capacity) {
    out_.clear();
}

bool WireWriter::fits(size_t count) {
    if (!ok_ || count > capacity_ - out_.size()) ok_ = false;
    return ok_;
}

void WireWriter::u8(uint8_t v) {
    if (fits(1)) out_.push_back(v);
}

void WireWriter::u16(uint16_t v) {
    if (!fits(2)) return;
    for (unsigned i = 0; i < 2; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void WireWriter::u32(uint32_t v) {
    if (!fits(4)) return;
    for (unsigned i = 0; i < 4; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void WireWriter::u64(uint64_t v) {
    if (!fits(8)) return;
    for (unsigned i = 0; i < 8; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void WireWriter::str(std::string_view s) {
    if (s.size() > UINT16_MAX) {
        ok_ = false;
        return;
    }
    if (!fits(2 + s.size())) return;
    u16(static_cast<uint16_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
}

void WireWriter::qid(const Qid& q) {
    if (!fits(QID_SIZE)) return;
    u8(q.type);
    u32(q.version);
    u64(q.path);
}

void WireWriter::bytes(std::span<const uint8_t> b) {
    if (fits(b.size())) out_.insert(out_.end(), b.begin(), b.end());
}

std::span<uint8_t> WireWriter::reserve(size_t count) {
    if (!fits(count)) return {};
    const size_t at = out_.size();
    out_.resize(at + count);
    return {out_.data() + at, count};
}

void WireWriter::shrink(size_t count) {
    out_.resize(out_.size() - std::min(count, out_.size()));
}

void WireWriter::patch_u32(size_t offset, uint32_t v) {
    if (offset > out_.size() || out_.size() - offset < 4) return;
    for (unsigned i = 0; i < 4; ++i) out_[offset + i] = static_cast<uint8_t>(v >> (8 * i));
}

} // namespace minivmm::p9
