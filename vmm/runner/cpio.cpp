// CpioWriter (see cpio.hpp).
#include "runner/cpio.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

namespace minivmm::runner {

namespace {
constexpr size_t NAME_MAX_BYTES = 4095;   // PATH_MAX less its NUL: what the unpacker takes

void append_hex(std::vector<uint8_t>& out, uint64_t value) {
    const std::string field = fmt::format("{:08X}", value);
    out.insert(out.end(), field.begin(), field.end());
}
} // namespace

void CpioWriter::pad4() {
    while (out_.size() % 4 != 0) out_.push_back(0);
}

Result<void> CpioWriter::add(std::string_view name, uint32_t mode, std::span<const uint8_t> data) {
    if (name.empty() || name.size() > NAME_MAX_BYTES || name.front() == '/' ||
        name.find('\0') != std::string_view::npos)
        return Error(ErrorCode::Invalid, fmt::format("cpio: bad entry name '{}'", name));
    if (data.size() > UINT32_MAX)
        return Error(ErrorCode::Invalid, fmt::format("cpio: {} is larger than 4 GiB", name));
    static const char MAGIC[] = "070701";
    out_.insert(out_.end(), MAGIC, MAGIC + 6);
    const bool dir = (mode & S_IFMT) == S_IFDIR;
    append_hex(out_, next_ino_++);     // c_ino
    append_hex(out_, mode);            // c_mode
    append_hex(out_, 0);               // c_uid: root
    append_hex(out_, 0);               // c_gid
    append_hex(out_, dir ? 2 : 1);     // c_nlink
    append_hex(out_, 0);               // c_mtime
    append_hex(out_, data.size());     // c_filesize
    append_hex(out_, 0);               // c_devmajor
    append_hex(out_, 0);               // c_devminor
    append_hex(out_, 0);               // c_rdevmajor
    append_hex(out_, 0);               // c_rdevminor
    append_hex(out_, name.size() + 1); // c_namesize, with its NUL
    append_hex(out_, 0);               // c_check: 0 in the newc format
    out_.insert(out_.end(), name.begin(), name.end());
    out_.push_back(0);
    pad4();   // the header (110 bytes) and name end on a multiple of 4
    out_.insert(out_.end(), data.begin(), data.end());
    pad4();
    return {};
}

Result<void> CpioWriter::add_directory(std::string_view name, uint32_t mode) {
    return add(name, S_IFDIR | (mode & 07777), {});
}

Result<void> CpioWriter::add_file(std::string_view name, uint32_t mode,
                                  std::span<const uint8_t> data) {
    return add(name, S_IFREG | (mode & 07777), data);
}

std::vector<uint8_t> CpioWriter::finish() {
    next_ino_ = 0;   // the trailer's fields are all zero but its name size
    (void)add("TRAILER!!!", 0, {});
    next_ino_ = 1;
    return std::exchange(out_, {});
}

} // namespace minivmm::runner
