// Tests of the embedded-config reader (vmm/runner/ikconfig.hpp) on synthetic kernels built
// here (gzip with zlib), hostile ones included, and on the real kernel of guest-images/ when
// it is built.
#include "runner/ikconfig.hpp"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "gzip.hpp"

namespace minivmm::runner {
namespace {

using Bytes = std::vector<uint8_t>;

using test::gzip;

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

// The kernel's own layout: "IKCFG_ST", the gzip'd .config, "IKCFG_ED", amid other bytes.
Bytes image_data(const std::string& config, size_t before = 1000) {
    return cat({Bytes(before, 0x90), text("IKCFG_ST"), gzip(config), text("IKCFG_ED"), Bytes(500, 0)});
}

Bytes fake_elf(const Bytes& data) { return cat({text("\x7f" "ELF"), Bytes(60, 0), data}); }

// A bzImage: one setup sector after the boot sector, the protected-mode part at 1024, the
// payload (PAYLOAD) at payload_offset 0x100 inside it.
Bytes fake_bzimage(const Bytes& payload, uint16_t version = 0x020f) {
    Bytes f(1024 + 0x100, 0);
    f[0x1f1] = 1;
    std::memcpy(f.data() + 0x202, "HdrS", 4);
    f[0x206] = static_cast<uint8_t>(version);
    f[0x207] = static_cast<uint8_t>(version >> 8);
    auto put32 = [&](size_t at, uint32_t v) {
        for (int i = 0; i < 4; ++i) f[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
    };
    put32(0x248, 0x100);
    put32(0x24c, static_cast<uint32_t>(payload.size()));
    f.insert(f.end(), payload.begin(), payload.end());
    f.insert(f.end(), 16, 0);
    return f;
}

const std::string GOOD = "#\n# Linux config\nCONFIG_BLK_DEV_INITRD=y\nCONFIG_BINFMT_ELF=y\n"
                         "CONFIG_PROC_FS=y\nCONFIG_SYSFS=y\nCONFIG_DEVTMPFS=y\nCONFIG_TMPFS=y\n"
                         "CONFIG_TTY=y\nCONFIG_VIRTIO_MMIO=y\nCONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y\n"
                         "CONFIG_VIRTIO_CONSOLE=y\nCONFIG_X86_IOPL_IOPERM=y\nCONFIG_PVPANIC=y\n"
                         "CONFIG_PVPANIC_MMIO=y\n";

TEST(EmbeddedConfig, FoundInAnElfKernel) {
    auto c = embedded_config(fake_elf(image_data(GOOD)));
    ASSERT_TRUE(c.has_value()) << c.error().message();
    ASSERT_TRUE(c->text.has_value()) << c->why_none;
    EXPECT_EQ(*c->text, GOOD);
}

TEST(EmbeddedConfig, FoundInsideABzImagesGzipPayload) {
    const Bytes data = image_data(GOOD);
    auto c = embedded_config(fake_bzimage(gzip(std::string(data.begin(), data.end()))));
    ASSERT_TRUE(c.has_value()) << c.error().message();
    ASSERT_TRUE(c->text.has_value()) << c->why_none;
    EXPECT_EQ(*c->text, GOOD);
}

// The payload inflates in 1 MiB pieces: markers across a piece boundary are still found.
TEST(EmbeddedConfig, MarkersAcrossInflatedPieces) {
    for (size_t before : {(1u << 20) - 4, (1u << 20) - 8, (1u << 20) + 3}) {
        const Bytes data = image_data(GOOD, before);
        auto c = embedded_config(fake_bzimage(gzip(std::string(data.begin(), data.end()))));
        ASSERT_TRUE(c.has_value()) << before << ": " << c.error().message();
        ASSERT_TRUE(c->text.has_value()) << before << ": " << c->why_none;
        EXPECT_EQ(*c->text, GOOD);
    }
}

TEST(EmbeddedConfig, NoneIsSaidNotAnError) {
    auto c = embedded_config(fake_elf(Bytes(5000, 1)));
    ASSERT_TRUE(c.has_value());
    EXPECT_FALSE(c->text.has_value());
    EXPECT_NE(c->why_none.find("CONFIG_IKCONFIG"), std::string::npos);
    // An xz payload (or any but gzip) is not inflated.
    c = embedded_config(fake_bzimage(cat({text("\xfd" "7zXZ"), Bytes(100, 0)})));
    ASSERT_TRUE(c.has_value());
    EXPECT_FALSE(c->text.has_value());
    EXPECT_NE(c->why_none.find("gzip"), std::string::npos);
    c = embedded_config(fake_bzimage(gzip("x"), 0x0207));
    ASSERT_TRUE(c.has_value());
    EXPECT_FALSE(c->text.has_value());
    c = embedded_config(text("neither"));
    ASSERT_TRUE(c.has_value());
    EXPECT_FALSE(c->text.has_value());
}

TEST(EmbeddedConfig, HostileImagesAreInputErrors) {
    auto input_error = [](const Bytes& f) {
        auto c = embedded_config(f);
        return !c.has_value() && c.error().code() == ErrorCode::Input;
    };
    Bytes outside = fake_bzimage(gzip("abc"));
    outside[0x24c] = 0xff;   // payload_length past the end
    outside[0x24d] = 0xff;
    EXPECT_TRUE(input_error(outside));
    Bytes offset = fake_bzimage(gzip("abc"));
    offset[0x24b] = 0xff;   // payload_offset far beyond
    EXPECT_TRUE(input_error(offset));
    Bytes corrupt = gzip(std::string(5000, 'a') + "IKCFG_ST");
    corrupt[corrupt.size() / 2] ^= 0xff;
    corrupt[corrupt.size() / 2 + 1] ^= 0x55;
    EXPECT_TRUE(input_error(fake_bzimage(corrupt)));
    Bytes truncated = gzip(std::string(5000, 'b'));
    truncated.resize(truncated.size() / 2);
    EXPECT_TRUE(input_error(fake_bzimage(truncated)));
    // A start marker with no end, and a config that is not gzip.
    EXPECT_TRUE(input_error(fake_elf(cat({text("IKCFG_ST"), gzip(GOOD)}))));
    EXPECT_TRUE(input_error(fake_elf(cat({text("IKCFG_ST"), text("not gzip"), text("IKCFG_ED")}))));
    // A config inflating past its bound.
    EXPECT_TRUE(input_error(fake_elf(cat({text("IKCFG_ST"), gzip(std::string(MAX_CONFIG_INFLATED + 1, 'c')),
                                          text("IKCFG_ED")}))));
}

TEST(MissingOptions, OnlyWholeLinesSetToYCount) {
    const auto needed = runner_needed_options(false);
    EXPECT_TRUE(missing_options(GOOD, needed).empty());
    std::string lacking = GOOD;
    lacking.replace(lacking.find("CONFIG_VIRTIO_CONSOLE=y"), 23, "CONFIG_VIRTIO_CONSOLE=m");
    lacking.replace(lacking.find("CONFIG_X86_IOPL_IOPERM=y"), 24, "# CONFIG_X86_IOPL_IOPERM is not set");
    EXPECT_EQ(missing_options(lacking, needed),
              (std::vector<std::string>{"CONFIG_VIRTIO_CONSOLE", "CONFIG_X86_IOPL_IOPERM"}));
    EXPECT_EQ(missing_options("CONFIG_TTYX=y\nXCONFIG_TTY=y\n# CONFIG_TTY=y\n", {"CONFIG_TTY"}),
              (std::vector<std::string>{"CONFIG_TTY"}));
    EXPECT_TRUE(missing_options("CONFIG_TTY=y", {"CONFIG_TTY"}).empty());
    const auto with_shares = runner_needed_options(true);
    EXPECT_EQ(missing_options(GOOD, with_shares),
              (std::vector<std::string>{"CONFIG_NET_9P", "CONFIG_NET_9P_VIRTIO", "CONFIG_9P_FS"}));
}

// The positive case on a real kernel: guest-images/'s (guest-images/kernel.config has
// CONFIG_IKCONFIG and every option of guest-images/runner.config).
TEST(EmbeddedConfig, TheProjectsKernelHasEveryNeededOption) {
    const char* images = std::getenv("MINIVMM_IMAGES");
    const char* home = std::getenv("HOME");
    const std::filesystem::path dir =
        images ? images : std::filesystem::path(home ? home : "/root") / ".cache/minivmm/images";
    for (const char* name : {"kernel/bzImage", "kernel/vmlinux"}) {
        const auto path = dir / name;
        if (!std::filesystem::exists(path)) GTEST_SKIP() << "needs " << path << " (guest-images/build-kernel)";
        std::ifstream in(path, std::ios::binary);
        const Bytes file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto c = embedded_config(file);
        ASSERT_TRUE(c.has_value()) << path << ": " << c.error().message();
        if (!c->text) GTEST_SKIP() << path << " predates CONFIG_IKCONFIG in guest-images/kernel.config: " << c->why_none;
        EXPECT_TRUE(missing_options(*c->text, runner_needed_options(true)).empty()) << path;
    }
}

} // namespace
} // namespace minivmm::runner
