// bzImage parser and loader (Linux x86 boot protocol, Documentation/arch/x86/boot.rst).
#include "boot/bzimage.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace minivmm {

namespace {

constexpr uint64_t HEADER_OFFSET = 0x1f1;          // struct setup_header in the file
constexpr uint64_t JUMP_OFFSET = 0x200;            // "jump": 0xEB, offset to the header's end
constexpr uint64_t HEADER_END_BASE = 0x202;        // the jump's offset is relative to here
constexpr uint64_t MIN_HEADER_END = 0x264;         // end of init_size (protocol 2.10)
constexpr uint16_t BOOT_FLAG = 0xaa55;
constexpr uint32_t HDRS_MAGIC = 0x5372'6448;       // "HdrS", little-endian
constexpr uint16_t MIN_PROTOCOL = 0x020a;          // 2.10: init_size, pref_address
constexpr uint64_t SECTOR = 512;
constexpr uint64_t ENTRY_64_OFFSET = 0x200;        // 64-bit entry: load address + 0x200

Error input(std::string what) { return Error(ErrorCode::Input, "bzImage: " + std::move(what)); }

// Header length from the jump at 0x200 (boot.rst: "can be used to determine the size of the
// header"), or an error when the file is too short or the header stops before init_size.
Result<uint64_t> header_length(std::span<const uint8_t> file) {
    if (file.size() < HEADER_OFFSET + sizeof(setup_header))
        return input(fmt::format("file of {} bytes is too small for a setup header", file.size()));
    auto offset = static_cast<int8_t>(file[JUMP_OFFSET + 1]);
    int64_t end = static_cast<int64_t>(HEADER_END_BASE) + offset;
    if (file[JUMP_OFFSET] != 0xeb || end < static_cast<int64_t>(MIN_HEADER_END))
        return input("setup header is shorter than protocol 2.10 requires");
    return std::min<uint64_t>(static_cast<uint64_t>(end) - HEADER_OFFSET, sizeof(setup_header));
}

// The file's setup header; bytes past its own length (setup code in older kernels) zeroed.
Result<setup_header> read_header(std::span<const uint8_t> file) {
    auto len = header_length(file);
    if (!len) return len.error();
    setup_header hdr{};
    std::memcpy(&hdr, file.data() + HEADER_OFFSET, *len);
    return hdr;
}

} // namespace

Result<BzImageInfo> parse_bzimage(std::span<const uint8_t> file) {
    if (file.size() < HEADER_OFFSET + sizeof(setup_header))
        return input(fmt::format("file of {} bytes is too small for a setup header", file.size()));
    setup_header hdr{};
    std::memcpy(&hdr, file.data() + HEADER_OFFSET, sizeof(hdr));
    if (hdr.boot_flag != BOOT_FLAG)
        return input(fmt::format("boot_flag is {:#06x}, not 0xaa55", uint16_t{hdr.boot_flag}));
    if (hdr.header != HDRS_MAGIC) return input("no \"HdrS\" magic in the setup header");
    if (hdr.version < MIN_PROTOCOL)
        return input(fmt::format("boot protocol {}.{:02} is older than 2.10", hdr.version >> 8,
                                 hdr.version & 0xff));
    auto full = read_header(file);
    if (!full) return full.error();
    hdr = *full;

    uint64_t sects = hdr.setup_sects == 0 ? 4 : hdr.setup_sects;
    uint64_t setup_size = (sects + 1) * SECTOR;
    if (setup_size > file.size())
        return input(fmt::format("setup of {} sectors runs past the end of the {}-byte file",
                                 sects, file.size()));
    if (setup_size == file.size()) return input("protected-mode kernel is empty");
    if ((hdr.xloadflags & XLF_KERNEL_64) == 0)
        return input("kernel has no 64-bit entry point (XLF_KERNEL_64 not set)");

    BzImageInfo info;
    info.protocol_version = hdr.version;
    info.setup_size = setup_size;
    info.pm_offset = setup_size;
    info.pm_size = file.size() - setup_size;
    info.init_size = hdr.init_size;
    info.pref_address = hdr.pref_address;
    info.kernel_alignment = hdr.kernel_alignment;
    info.relocatable = hdr.relocatable_kernel != 0;
    info.initrd_addr_max = hdr.initrd_addr_max;
    info.cmdline_size = hdr.cmdline_size;
    return info;
}

Result<LoadedKernel> load_bzimage(const GuestMemory& mem, std::span<const uint8_t> file,
                                  const BzImageInfo& info) {
    // `info` may come from elsewhere: re-check it against this file before copying.
    if (info.pm_size == 0 || info.pm_offset > file.size() ||
        info.pm_size > file.size() - info.pm_offset)
        return input("kernel description does not match the file");
    auto hdr = read_header(file);
    if (!hdr) return hdr.error();

    uint64_t need = std::max<uint64_t>(info.pm_size, info.init_size);
    GuestAddress load(KERNEL_LOAD_ADDR);
    if (!mem.check_range(load, need))
        return input(fmt::format("kernel needs {:#x} bytes at {:#x}, more than guest RAM holds",
                                 need, KERNEL_LOAD_ADDR));
    auto w = mem.write(load, file.subspan(info.pm_offset, info.pm_size));
    if (!w) return w.error().with_context("bzImage: Failed to copy the kernel");
    return LoadedKernel{load + ENTRY_64_OFFSET, load + need, *hdr};
}

} // namespace minivmm
