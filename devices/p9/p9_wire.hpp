// 9P2000.L wire format: little-endian integers, strings as u16 length + bytes, qids of 13
// bytes. WireReader decodes a request the guest wrote; WireWriter encodes a reply into a
// buffer of fixed capacity. Both are bounded: nothing is read or written past the message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace minivmm::p9 {

struct Qid {
    uint8_t type = 0;      // QT_DIR, QT_SYMLINK or QT_FILE
    uint32_t version = 0;
    uint64_t path = 0;     // unique per file within the share
};

constexpr size_t QID_SIZE = 13;
constexpr size_t HEADER_SIZE = 7;   // size[4] type[1] tag[2]

// Guest-controlled: every getter checks the bytes left and latches a failure (ok() false);
// a failed reader returns zeros and empty strings from then on, so a handler decodes all its
// fields and checks ok() once.
class WireReader {
public:
    explicit WireReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

    uint8_t u8();
    uint16_t u16();
    uint32_t u32();
    uint64_t u64();
    // A string of at most `max` bytes (a longer one fails the reader). The view points into
    // the message.
    std::string_view str(size_t max);
    // The next `count` bytes, or fails when fewer remain.
    std::span<const uint8_t> bytes(size_t count);
    size_t remaining() const { return ok_ ? bytes_.size() - pos_ : 0; }
    bool ok() const { return ok_; }

private:
    bool take(size_t count);

    std::span<const uint8_t> bytes_;
    size_t pos_ = 0;
    bool ok_ = true;
};

// Encodes into `out`, never growing it past `capacity` bytes; a write that does not fit fails
// the writer (ok() false) and writes nothing more.
class WireWriter {
public:
    WireWriter(std::vector<uint8_t>& out, size_t capacity);

    void u8(uint8_t v);
    void u16(uint16_t v);
    void u32(uint32_t v);
    void u64(uint64_t v);
    void str(std::string_view s);   // at most 65535 bytes, or the writer fails
    void qid(const Qid& q);
    void bytes(std::span<const uint8_t> b);
    // Reserves `count` bytes to be filled in place (a read's data); returns them, or an empty
    // span when they do not fit.
    std::span<uint8_t> reserve(size_t count);
    // Gives back the last `count` reserved bytes the caller did not fill.
    void shrink(size_t count);
    size_t size() const { return out_.size(); }
    size_t room() const { return ok_ ? capacity_ - out_.size() : 0; }
    bool ok() const { return ok_; }
    // Writes the u32 at `offset` (the size field, a count known only at the end).
    void patch_u32(size_t offset, uint32_t v);

private:
    bool fits(size_t count);

    std::vector<uint8_t>& out_;
    size_t capacity_;
    bool ok_ = true;
};

} // namespace minivmm::p9
