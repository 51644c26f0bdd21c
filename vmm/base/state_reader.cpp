#include "base/state_reader.hpp"

#include "base/state_writer.hpp"

namespace minivmm {

uint64_t StateReader::get(size_t n) {
    if (failed_ || n > remaining()) {
        failed_ = true;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(bytes_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
}

std::span<const uint8_t> StateReader::blob(size_t max_length) {
    const uint64_t length = get(4);
    if (failed_ || length > max_length || length > remaining()) {
        failed_ = true;
        return {};
    }
    auto bytes = bytes_.subspan(pos_, static_cast<size_t>(length));
    pos_ += static_cast<size_t>(length);
    return bytes;
}

Result<StateReader::Section> StateReader::section(uint32_t tag, uint16_t max_version,
                                                  const char* what) {
    if (remaining() < StateWriter::SECTION_HEADER) {
        failed_ = true;
        return Error(ErrorCode::Input, fmt::format("Saved state: {} is truncated", what));
    }
    const uint32_t got_tag = u32();
    const uint16_t version = u16();
    const uint16_t reserved = u16();
    const uint32_t length = u32();
    if (got_tag != tag)
        return Error(ErrorCode::Input,
                     fmt::format("Saved state: expected {} (tag {:#010x}), found tag {:#010x}",
                                 what, tag, got_tag));
    if (version == 0 || version > max_version || reserved != 0)
        return Error(ErrorCode::Input,
                     fmt::format("Saved state: {} version {} is not supported (1..{})", what,
                                 version, max_version));
    if (length > remaining()) {
        failed_ = true;
        return Error(ErrorCode::Input,
                     fmt::format("Saved state: {} claims {} bytes, {} are left", what, length,
                                 remaining()));
    }
    Section s{version, bytes_.subspan(pos_, length)};
    pos_ += length;
    return s;
}

Result<void> StateReader::finish(const char* what) const {
    if (failed_) return Error(ErrorCode::Input, fmt::format("Saved state: {} is truncated", what));
    if (remaining() != 0)
        return Error(ErrorCode::Input,
                     fmt::format("Saved state: {} has {} unexpected bytes at its end", what,
                                 remaining()));
    return {};
}

} // namespace minivmm
