// The kernel's embedded config (see ikconfig.hpp).
#include "runner/ikconfig.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <zlib.h>

namespace minivmm::runner {

namespace {
constexpr std::string_view START = "IKCFG_ST";
constexpr std::string_view END = "IKCFG_ED";

uint32_t le32(std::span<const uint8_t> b, size_t at) {
    return static_cast<uint32_t>(b[at]) | static_cast<uint32_t>(b[at + 1]) << 8 |
           static_cast<uint32_t>(b[at + 2]) << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}

size_t find(std::span<const uint8_t> hay, std::string_view needle, size_t from = 0) {
    if (hay.size() < needle.size()) return std::string::npos;
    auto it = std::search(hay.begin() + static_cast<ptrdiff_t>(std::min(from, hay.size())),
                          hay.end(), needle.begin(), needle.end());
    return it == hay.end() ? std::string::npos : static_cast<size_t>(it - hay.begin());
}

// Inflates the gzip stream IN, handing each piece of output to SINK until it returns false
// (done) or the stream ends. More than LIMIT bytes of output is an error.
template <typename Sink>
Result<void> gunzip(std::span<const uint8_t> in, uint64_t limit, Sink sink) {
    z_stream zs{};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return Error(ErrorCode::Host, "zlib: inflateInit2 failed");
    std::vector<uint8_t> out(1 << 20);
    zs.next_in = const_cast<Bytef*>(in.data());   // zlib's API; it does not write the input
    zs.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
    uint64_t total = 0;
    Result<void> result;
    for (;;) {
        zs.next_out = out.data();
        zs.avail_out = static_cast<uInt>(out.size());
        const int rc = inflate(&zs, Z_NO_FLUSH);
        const size_t got = out.size() - zs.avail_out;
        total += got;
        if (rc != Z_OK && rc != Z_STREAM_END) {
            result = Error(ErrorCode::Input, fmt::format("corrupt gzip data ({})",
                                                         zs.msg ? zs.msg : "zlib error"));
            break;
        }
        if (total > limit) {
            result = Error(ErrorCode::Input, fmt::format("inflates to more than {} MiB", limit >> 20));
            break;
        }
        if (!sink(std::span<const uint8_t>(out.data(), got))) break;
        if (rc == Z_STREAM_END) break;
        if (got == 0 && zs.avail_in == 0) {
            result = Error(ErrorCode::Input, "truncated gzip data");
            break;
        }
    }
    inflateEnd(&zs);
    return result;
}

// Finds the markers in DATA, the whole file or one inflated piece after another: STATE keeps
// what lies between them across pieces (bounded), and the marker's last bytes.
struct MarkerScan {
    std::vector<uint8_t> carry;   // the previous piece's tail (a marker may straddle)
    std::vector<uint8_t> body;    // after IKCFG_ST
    bool started = false, ended = false, overflow = false;

    bool feed(std::span<const uint8_t> piece) {
        std::vector<uint8_t> buf(carry);
        buf.insert(buf.end(), piece.begin(), piece.end());
        size_t from = 0;
        if (!started) {
            const size_t at = find(buf, START);
            if (at == std::string::npos) {
                keep_tail(buf);
                return true;
            }
            started = true;
            from = at + START.size();
            body.clear();
        }
        const size_t body_before = body.size();
        body.insert(body.end(), buf.begin() + static_cast<ptrdiff_t>(from), buf.end());
        const size_t end = find(body, END, body_before >= END.size() ? body_before - END.size() + 1 : 0);
        if (end != std::string::npos) {
            body.resize(end);
            ended = true;
            return false;
        }
        if (body.size() > MAX_CONFIG_INFLATED) {
            overflow = true;
            return false;
        }
        carry.clear();
        return true;
    }
    void keep_tail(const std::vector<uint8_t>& buf) {
        const size_t keep = std::min(buf.size(), START.size() - 1);
        carry.assign(buf.end() - static_cast<ptrdiff_t>(keep), buf.end());
    }
};

Result<EmbeddedConfig> config_from_body(const MarkerScan& scan) {
    if (!scan.started) return EmbeddedConfig{std::nullopt, "no IKCFG_ST marker (CONFIG_IKCONFIG off)"};
    if (scan.overflow || !scan.ended)
        return Error(ErrorCode::Input, "embedded config: IKCFG_ST without IKCFG_ED");
    std::string text;
    auto r = gunzip(scan.body, MAX_CONFIG_INFLATED, [&](std::span<const uint8_t> piece) {
        text.append(piece.begin(), piece.end());
        return true;
    });
    if (!r) return r.error().with_context("embedded config");
    return EmbeddedConfig{std::move(text), {}};
}
} // namespace

Result<EmbeddedConfig> embedded_config(std::span<const uint8_t> file) {
    MarkerScan scan;
    const bool elf = file.size() >= 4 && file[0] == 0x7f && file[1] == 'E' && file[2] == 'L' &&
                     file[3] == 'F';
    if (elf) {
        scan.feed(file);
        return config_from_body(scan);
    }
    // bzImage (boot protocol 2.08+): the payload lies in the protected-mode part, which starts
    // after the setup sectors (0 means 4).
    if (file.size() < 0x250 || std::memcmp(file.data() + 0x202, "HdrS", 4) != 0)
        return EmbeddedConfig{std::nullopt, "not a bzImage or ELF kernel"};
    const uint16_t version = static_cast<uint16_t>(file[0x206] | file[0x207] << 8);
    if (version < 0x208) return EmbeddedConfig{std::nullopt, "boot protocol before 2.08: no payload fields"};
    const uint64_t setup_sects = file[0x1f1] == 0 ? 4 : file[0x1f1];
    const uint64_t pm = (setup_sects + 1) * 512;
    const uint64_t offset = pm + le32(file, 0x248), length = le32(file, 0x24c);
    if (offset > file.size() || length > file.size() - offset || length < 2)
        return Error(ErrorCode::Input, "bzImage payload lies outside the file");
    auto payload = file.subspan(offset, length);
    if (payload[0] != 0x1f || payload[1] != 0x8b)
        return EmbeddedConfig{std::nullopt, "the kernel is not gzip-compressed (CONFIG_KERNEL_GZIP)"};
    auto r = gunzip(payload, MAX_KERNEL_INFLATED, [&](std::span<const uint8_t> piece) {
        return scan.feed(piece);
    });
    if (!r) return r.error().with_context("bzImage payload");
    return config_from_body(scan);
}

std::vector<std::string> runner_needed_options(bool shares, bool host_root) {
    std::vector<std::string> needed = {
        "CONFIG_BLK_DEV_INITRD", "CONFIG_BINFMT_ELF",    "CONFIG_PROC_FS",
        "CONFIG_SYSFS",          "CONFIG_DEVTMPFS",      "CONFIG_TMPFS",
        "CONFIG_TTY",            "CONFIG_VIRTIO_MMIO",   "CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES",
        "CONFIG_VIRTIO_CONSOLE", "CONFIG_X86_IOPL_IOPERM", "CONFIG_PVPANIC",
        "CONFIG_PVPANIC_MMIO",
    };
    if (shares)
        for (const char* o : {"CONFIG_NET_9P", "CONFIG_NET_9P_VIRTIO", "CONFIG_9P_FS"})
            needed.push_back(o);
    if (host_root) needed.push_back("CONFIG_OVERLAY_FS");
    return needed;
}

std::vector<std::string> missing_options(std::string_view config,
                                         const std::vector<std::string>& needed) {
    std::vector<std::string> missing;
    for (const std::string& option : needed) {
        const std::string line = option + "=y";
        bool found = false;
        for (size_t at = config.find(line); at != std::string_view::npos;
             at = config.find(line, at + 1)) {
            const bool line_start = at == 0 || config[at - 1] == '\n';
            const size_t after = at + line.size();
            const bool line_end = after == config.size() || config[after] == '\n';
            if (line_start && line_end) {
                found = true;
                break;
            }
        }
        if (!found) missing.push_back(option);
    }
    return missing;
}

} // namespace minivmm::runner
