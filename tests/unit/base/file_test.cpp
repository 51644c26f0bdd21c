// Unit tests for open_regular_file / read_file (vmm/base/file.hpp): errors that name the file,
// close-on-exec, and no blocking on a FIFO.
#include "base/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

class FileTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("minivmm-file-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        std::ofstream(dir_ / "kernel") << "kernel bytes";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string path(const char* name) const { return (dir_ / name).string(); }
    std::filesystem::path dir_;
};

TEST_F(FileTest, OpenedFileIsCloseOnExecAndBlocking) {
    auto f = open_regular_file(path("kernel"), "kernel");
    ASSERT_TRUE(f) << f.error().message();
    EXPECT_EQ(f->size, 12u);
    EXPECT_NE(::fcntl(f->fd.get(), F_GETFD) & FD_CLOEXEC, 0);
    // O_NONBLOCK is only for the open itself (FIFOs); the caller gets an ordinary descriptor.
    EXPECT_EQ(::fcntl(f->fd.get(), F_GETFL) & O_NONBLOCK, 0);
}

TEST_F(FileTest, FifoIsRefusedWithoutWaitingForAWriter) {
    ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
    auto start = std::chrono::steady_clock::now();
    auto f = open_regular_file(path("fifo"), "initrd");   // before the fix: blocked forever
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code(), ErrorCode::Input);
    EXPECT_EQ(f.error().message(), "Initrd " + path("fifo") + " is not a regular file");
}

TEST_F(FileTest, ErrorsNameTheFile) {
    auto missing = open_regular_file(path("missing"), "kernel");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message(),
              "Cannot open kernel " + path("missing") + ": No such file or directory");
    std::ofstream(dir_ / "empty");
    auto empty = read_file(path("empty"), "disk");
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().message(), "Disk " + path("empty") + " is empty");
    auto big = read_file(path("kernel"), "kernel", 4);
    ASSERT_FALSE(big);
    EXPECT_NE(big.error().message().find("is larger than"), std::string::npos);
}

} // namespace
} // namespace minivmm
