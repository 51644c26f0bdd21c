// Tests of runner::CpioWriter: the archive's bytes, and GNU cpio (Debian package cpio) listing
// and unpacking it as Linux's initramfs unpacker would.
#include "runner/cpio.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "run_process.hpp"

namespace minivmm::runner {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::string header_field(const std::vector<uint8_t>& a, size_t entry_offset, size_t index) {
    return std::string(a.begin() + static_cast<ptrdiff_t>(entry_offset + 6 + index * 8),
                       a.begin() + static_cast<ptrdiff_t>(entry_offset + 14 + index * 8));
}

// A temporary directory holding the archive, removed at the end.
class CpioTool : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists("/usr/bin/cpio")) GTEST_SKIP() << "GNU cpio not installed (Debian package cpio)";
        dir_ = fs::temp_directory_path() / ("minivmm-cpio-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "out");
    }
    void TearDown() override {
        if (!dir_.empty()) fs::remove_all(dir_);
    }
    std::string write(const std::vector<uint8_t>& archive) {
        const fs::path path = dir_ / "a.cpio";
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(archive.data()),
                   static_cast<std::streamsize>(archive.size()));
        return path.string();
    }
    test::ProcessResult sh(const std::string& command) {
        return test::run_process({"/bin/sh", "-c", command}, 30);
    }
    fs::path dir_;
};

TEST(CpioWriter, NewcHeaderFieldsAndAlignment) {
    CpioWriter w;
    ASSERT_TRUE(w.add_file("abc", 0644, bytes("hello")).has_value());
    auto a = w.finish();
    ASSERT_GE(a.size(), 110u);
    EXPECT_EQ(std::string(a.begin(), a.begin() + 6), "070701");
    EXPECT_EQ(header_field(a, 0, 1), "000081A4");   // S_IFREG | 0644
    EXPECT_EQ(header_field(a, 0, 6), "00000005");   // file size
    EXPECT_EQ(header_field(a, 0, 11), "00000004");  // "abc" and its NUL
    // 110 + 4 = 114, padded to 116; the data, padded to 124; then the trailer.
    EXPECT_EQ(std::string(a.begin() + 116, a.begin() + 121), "hello");
    EXPECT_EQ(a[121], 0);
    EXPECT_EQ(std::string(a.begin() + 124, a.begin() + 130), "070701");
    EXPECT_EQ(a.size() % 4, 0u);
    const std::string tail(a.end() - 16, a.end());
    EXPECT_NE(tail.find("TRAILER!!!"), std::string::npos);
}

TEST(CpioWriter, RefusesBadNames) {
    CpioWriter w;
    EXPECT_FALSE(w.add_file("", 0644, {}).has_value());
    EXPECT_FALSE(w.add_file("/abs", 0644, {}).has_value());
    EXPECT_FALSE(w.add_file(std::string_view("a\0b", 3), 0644, {}).has_value());
    EXPECT_FALSE(w.add_directory(std::string(4096, 'x'), 0755).has_value());
    EXPECT_TRUE(w.add_directory(std::string(4095, 'x'), 0755).has_value());
}

TEST(CpioWriter, OnlyPermissionBitsOfTheModeAreTaken) {
    CpioWriter w;
    ASSERT_TRUE(w.add_file("f", S_IFDIR | 0400, {}).has_value());
    auto a = w.finish();
    EXPECT_EQ(header_field(a, 0, 1), "00008100");   // a regular file, 0400
}

TEST_F(CpioTool, ListedByGnuCpio) {
    CpioWriter w;
    ASSERT_TRUE(w.add_directory("minivmm", 0700).has_value());
    ASSERT_TRUE(w.add_file("minivmm/init", 0700, bytes("#!x")).has_value());
    ASSERT_TRUE(w.add_file("minivmm/job", 0400, {}).has_value());
    const std::string path = write(w.finish());
    auto r = sh("cpio -t --quiet < " + path);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "minivmm\nminivmm/init\nminivmm/job\n");
    EXPECT_EQ(r.err, "");
}

TEST_F(CpioTool, UnpackedByGnuCpioByteForByteWithModes) {
    std::vector<uint8_t> big(70001);
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7 + i / 256);
    CpioWriter w;
    ASSERT_TRUE(w.add_directory("d", 0750).has_value());
    for (size_t len : {0u, 1u, 2u, 3u, 4u, 5u})   // every padding case
        ASSERT_TRUE(w.add_file("d/f" + std::to_string(len), 0640,
                               std::span<const uint8_t>(big).first(len)).has_value());
    ASSERT_TRUE(w.add_file("d/big", 0400, big).has_value());
    const std::string path = write(w.finish());
    auto r = sh("cd " + (dir_ / "out").string() + " && cpio -i --quiet -d < " + path);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    const fs::path out = dir_ / "out" / "d";
    EXPECT_EQ(fs::status(out).permissions(), static_cast<fs::perms>(0750));
    for (size_t len : {0u, 1u, 2u, 3u, 4u, 5u})
        EXPECT_EQ(fs::file_size(out / ("f" + std::to_string(len))), len);
    std::ifstream in(out / "big", std::ios::binary);
    std::vector<uint8_t> back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(back, big);
    EXPECT_EQ(fs::status(out / "big").permissions(), static_cast<fs::perms>(0400));
}

} // namespace
} // namespace minivmm::runner
