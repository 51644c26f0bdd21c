// StateWriter: a device's saved state as bytes (pause/resume today, snapshot files later). The
// format, read back by StateReader: little-endian integers, grouped in sections
//   tag u32 (four ASCII characters, the first in the low byte), version u16, reserved u16 (0),
//   length u32, then `length` bytes of the section's fields (which may hold sections).
// A section's version says which fields follow; a reader refuses a version newer than it knows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace minivmm {

// The tag of a section: state_tag("VCOR").
constexpr uint32_t state_tag(const char (&name)[5]) {
    return static_cast<uint32_t>(static_cast<uint8_t>(name[0])) |
           static_cast<uint32_t>(static_cast<uint8_t>(name[1])) << 8 |
           static_cast<uint32_t>(static_cast<uint8_t>(name[2])) << 16 |
           static_cast<uint32_t>(static_cast<uint8_t>(name[3])) << 24;
}

class StateWriter {
public:
    static constexpr size_t SECTION_HEADER = 12;

    void u8(uint8_t v) { bytes_.push_back(v); }
    void u16(uint16_t v) { put(v, 2); }
    void u32(uint32_t v) { put(v, 4); }
    void u64(uint64_t v) { put(v, 8); }
    // A length (u32) and that many bytes: what StateReader::blob reads back.
    void blob(std::span<const uint8_t> bytes);
    // Opens a section; its length is filled in by end_section(). Sections nest.
    void begin_section(uint32_t tag, uint16_t version);
    void end_section();

    const std::vector<uint8_t>& bytes() const { return bytes_; }
    std::vector<uint8_t> take() { return std::move(bytes_); }

private:
    void put(uint64_t v, int n);
    void patch32(size_t at, uint32_t v);

    std::vector<uint8_t> bytes_;
    std::vector<size_t> open_;   // offsets of the open sections' headers
};

} // namespace minivmm
