// Tests of the bzImage parser and loader on synthetic images built in memory.
#include "boot/bzimage.hpp"

#include <gtest/gtest.h>

#include "loader_test_util.hpp"

#include <cstring>
#include <vector>

using namespace minivmm;

namespace {

constexpr size_t HDR = 0x1f1;
constexpr uint64_t MiB = 1 << 20;

// A minimal valid bzImage: 4 setup sectors, protocol 2.15, 64-bit entry, `pm_size` bytes of
// protected-mode kernel filled with a pattern.
std::vector<uint8_t> make_bzimage(size_t pm_size = 0x1000, uint8_t setup_sects = 4) {
    size_t setup = (size_t{setup_sects ? setup_sects : 4u} + 1) * 512;
    std::vector<uint8_t> f(setup + pm_size, 0);
    setup_header h{};
    h.setup_sects = setup_sects;
    h.boot_flag = 0xaa55;
    h.jump = 0x6aeb;  // "jmp +0x6a": header ends at 0x26c
    h.header = 0x53726448;
    h.version = 0x020f;
    h.kernel_alignment = 0x200000;
    h.relocatable_kernel = 1;
    h.initrd_addr_max = 0x7fffffff;
    h.cmdline_size = 2047;
    h.xloadflags = XLF_KERNEL_64;
    h.pref_address = 0x1000000;
    h.init_size = 0x3000;
    std::memcpy(f.data() + HDR, &h, sizeof(h));
    for (size_t i = setup; i < f.size(); i++) f[i] = static_cast<uint8_t>(i * 7 + 1);
    return f;
}

template <typename F>
std::vector<uint8_t> with_header(std::vector<uint8_t> f, F change) {
    setup_header h;
    std::memcpy(&h, f.data() + HDR, sizeof(h));
    change(h);
    std::memcpy(f.data() + HDR, &h, sizeof(h));
    return f;
}

using test::expect_input_error;
using test::ram;

} // namespace

TEST(BzImage, ParsesValidImage) {
    auto f = make_bzimage();
    auto r = parse_bzimage(f);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->protocol_version, 0x020f);
    EXPECT_EQ(r->setup_size, 5u * 512);
    EXPECT_EQ(r->pm_offset, 5u * 512);
    EXPECT_EQ(r->pm_size, 0x1000u);
    EXPECT_EQ(r->init_size, 0x3000u);
    EXPECT_EQ(r->pref_address, 0x1000000u);
    EXPECT_EQ(r->kernel_alignment, 0x200000u);
    EXPECT_TRUE(r->relocatable);
    EXPECT_EQ(r->initrd_addr_max, 0x7fffffffu);
    EXPECT_EQ(r->cmdline_size, 2047u);
}

TEST(BzImage, SetupSectsZeroMeansFour) {
    auto r = parse_bzimage(make_bzimage(0x800, 0));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->setup_size, 5u * 512);
    EXPECT_EQ(r->pm_size, 0x800u);
}

TEST(BzImage, SetupSectsCountsSectors) {
    auto r = parse_bzimage(make_bzimage(0x800, 30));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->pm_offset, 31u * 512);
}

TEST(BzImage, RejectsFileTooSmallForHeader) {
    std::vector<uint8_t> f(0x200, 0);
    expect_input_error(parse_bzimage(f), "too small");
    expect_input_error(parse_bzimage({}), "too small");
}

TEST(BzImage, RejectsWrongBootFlag) {
    auto f = with_header(make_bzimage(), [](setup_header& h) { h.boot_flag = 0x55aa; });
    expect_input_error(parse_bzimage(f), "boot_flag");
}

TEST(BzImage, RejectsWrongMagic) {
    auto f = with_header(make_bzimage(), [](setup_header& h) { h.header = 0x53726449; });
    expect_input_error(parse_bzimage(f), "HdrS");
}

TEST(BzImage, RejectsOldProtocol) {
    auto f = with_header(make_bzimage(), [](setup_header& h) { h.version = 0x0209; });
    expect_input_error(parse_bzimage(f), "2.09 is older than 2.10");
}

TEST(BzImage, AcceptsProtocol210) {
    auto f = with_header(make_bzimage(), [](setup_header& h) { h.version = 0x020a; });
    EXPECT_TRUE(parse_bzimage(f).has_value());
}

TEST(BzImage, RejectsHeaderEndingBeforeInitSize) {
    auto f = with_header(make_bzimage(), [](setup_header& h) { h.jump = 0x5eeb; });  // ends 0x260
    expect_input_error(parse_bzimage(f), "shorter");
}

TEST(BzImage, RejectsMissing64BitEntry) {
    auto f = with_header(make_bzimage(), [](setup_header& h) { h.xloadflags = 0; });
    expect_input_error(parse_bzimage(f), "64-bit");
}

TEST(BzImage, RejectsSetupPastEnd) {
    auto f = with_header(make_bzimage(), [](setup_header& h) { h.setup_sects = 200; });
    expect_input_error(parse_bzimage(f), "past the end");
}

TEST(BzImage, RejectsEmptyProtectedModeKernel) {
    auto f = make_bzimage();
    f.resize(5 * 512);
    expect_input_error(parse_bzimage(f), "empty");
}

TEST(BzImage, EveryTruncationIsAnErrorOrAShorterKernel) {
    auto f = make_bzimage(0x200);
    for (size_t n = 0; n < f.size(); n++) {
        auto r = parse_bzimage(std::span(f).first(n));
        if (n <= 5 * 512) {
            ASSERT_FALSE(r.has_value()) << n;
            EXPECT_EQ(r.error().code(), ErrorCode::Input);
        } else {
            ASSERT_TRUE(r.has_value()) << n;
            EXPECT_EQ(r->pm_size, n - 5 * 512);
        }
    }
}

TEST(BzImage, LoadsProtectedModeKernelAtOneMiB) {
    auto f = make_bzimage(0x1000);
    auto info = *parse_bzimage(f);
    auto mem = ram(4 * MiB);
    auto k = load_bzimage(mem, f, info);
    ASSERT_TRUE(k.has_value()) << k.error().message();
    EXPECT_EQ(k->entry, GuestAddress(0x100200));
    EXPECT_EQ(k->end, GuestAddress(0x100000 + 0x3000));  // init_size > file part
    std::vector<uint8_t> got(0x1000);
    ASSERT_TRUE(mem.read(GuestAddress(0x100000), got).has_value());
    EXPECT_TRUE(std::equal(got.begin(), got.end(), f.begin() + 5 * 512));
    auto before = mem.read_obj<uint8_t>(GuestAddress(0xfffff));
    EXPECT_EQ(*before, 0);  // nothing written below the load address
    ASSERT_TRUE(k->header.has_value());
    EXPECT_EQ(uint32_t{k->header->boot_flag}, 0xaa55);
    EXPECT_EQ(uint32_t{k->header->header}, 0x53726448u);
    EXPECT_EQ(uint32_t{k->header->cmdline_size}, 2047u);
}

TEST(BzImage, HeaderCopyStopsAtHeaderLength) {
    // Protocol 2.10 header ends after init_size (0x264): later bytes are setup code, not fields.
    auto f = with_header(make_bzimage(), [](setup_header& h) {
        h.jump = 0x62eb;
        h.kernel_info_offset = 0xdeadbeef;
    });
    auto k = load_bzimage(ram(4 * MiB), f, *parse_bzimage(f));
    ASSERT_TRUE(k.has_value()) << k.error().message();
    EXPECT_EQ(uint32_t{k->header->init_size}, 0x3000u);
    EXPECT_EQ(uint32_t{k->header->kernel_info_offset}, 0u);
}

TEST(BzImage, RejectsKernelLargerThanRam) {
    auto f = make_bzimage(0x1000);
    auto mem = ram(2 * MiB);
    auto big = with_header(f, [](setup_header& h) { h.init_size = 0x100001; });
    auto k = load_bzimage(mem, big, *parse_bzimage(big));
    ASSERT_FALSE(k.has_value());
    EXPECT_EQ(k.error().code(), ErrorCode::Input);
    auto fits = with_header(f, [](setup_header& h) { h.init_size = 0x100000; });
    EXPECT_TRUE(load_bzimage(mem, fits, *parse_bzimage(fits)).has_value());
}

TEST(BzImage, RejectsInfoThatDoesNotMatchFile) {
    auto f = make_bzimage(0x1000);
    auto info = *parse_bzimage(f);
    info.pm_size += 1;
    auto k = load_bzimage(ram(4 * MiB), f, info);
    ASSERT_FALSE(k.has_value());
    EXPECT_EQ(k.error().code(), ErrorCode::Input);
}
