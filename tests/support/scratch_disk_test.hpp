// A test fixture with a scratch directory holding a 1 MiB raw disk image (disk_), removed with
// everything the test left in it.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

namespace minivmm::test {

class ScratchDiskTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/minivmm-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        disk_ = dir_ + "/disk.img";
        std::ofstream(disk_).close();
        ASSERT_EQ(::truncate(disk_.c_str(), 1 << 20), 0);
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    std::string dir_, disk_;
};

} // namespace minivmm::test
