#include "base/state_writer.hpp"

#include "base/log.hpp"

namespace minivmm {

void StateWriter::put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void StateWriter::patch32(size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes_[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}

void StateWriter::blob(std::span<const uint8_t> bytes) {
    MINIVMM_ASSERT(bytes.size() <= UINT32_MAX);
    u32(static_cast<uint32_t>(bytes.size()));
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
}

void StateWriter::begin_section(uint32_t tag, uint16_t version) {
    open_.push_back(bytes_.size());
    u32(tag);
    u16(version);
    u16(0);
    u32(0);   // the length, patched by end_section()
}

void StateWriter::end_section() {
    MINIVMM_ASSERT(!open_.empty());
    size_t header = open_.back();
    open_.pop_back();
    size_t length = bytes_.size() - header - SECTION_HEADER;
    MINIVMM_ASSERT(length <= UINT32_MAX);
    patch32(header + 8, static_cast<uint32_t>(length));
}

} // namespace minivmm
