// StateReader: reads the bytes a StateWriter wrote (the format is in state_writer.hpp). The
// bytes are hostile input (a snapshot file may be truncated, corrupted or forged): every read is
// bounds-checked; a read past the end returns 0 and marks the reader failed, and finish() turns
// that, or bytes left over, into an error. Callers still range-check every value they read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.hpp"

namespace minivmm {

class StateReader {
public:
    explicit StateReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

    uint8_t u8() { return static_cast<uint8_t>(get(1)); }
    uint16_t u16() { return static_cast<uint16_t>(get(2)); }
    uint32_t u32() { return static_cast<uint32_t>(get(4)); }
    uint64_t u64() { return get(8); }
    // A blob (StateWriter::blob): its length is checked against `max_length` and what is left
    // before a byte is read; past either the reader fails and the span is empty.
    std::span<const uint8_t> blob(size_t max_length);

    struct Section {
        uint16_t version = 0;
        std::span<const uint8_t> fields;   // read them with a StateReader of their own
    };
    // The next section: its tag must be `tag`, its version in 1..max_version, its length
    // inside what is left. `what` names it in the error. Moves past the whole section.
    Result<Section> section(uint32_t tag, uint16_t max_version, const char* what);
    // An error naming `what` if a read went past the end or bytes were left unread.
    Result<void> finish(const char* what) const;

    size_t remaining() const { return bytes_.size() - pos_; }
    bool failed() const { return failed_; }

private:
    uint64_t get(size_t n);

    std::span<const uint8_t> bytes_;
    size_t pos_ = 0;
    bool failed_ = false;
};

} // namespace minivmm
