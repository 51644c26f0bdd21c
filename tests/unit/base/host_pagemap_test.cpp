// HostPagemap: entries decoded from a crafted pagemap file, and the real one of this process.
#include "base/host_pagemap.hpp"

#include <cstdio>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

// A pagemap file whose entry i describes virtual page i.
HostPagemap crafted(const std::vector<uint64_t>& entries) {
    FILE* f = std::tmpfile();
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(std::fwrite(entries.data(), 8, entries.size(), f), entries.size());
    std::fflush(f);
    int fd = ::fcntl(::fileno(f), F_DUPFD_CLOEXEC, 0);
    std::fclose(f);
    return HostPagemap(UniqueFd(fd), "");
}

TEST(HostPagemap, PresentPageGivesFrameAndOffset) {
    auto pm = crafted({0, (1ULL << 63) | 0x1234});
    auto hpa = pm.physical_address(0x1abc);
    ASSERT_TRUE(std::holds_alternative<uint64_t>(hpa));
    EXPECT_EQ(std::get<uint64_t>(hpa), 0x1234abcULL);
}

TEST(HostPagemap, SaysWhyNot) {
    auto pm = crafted({0, 1ULL << 63, 1ULL << 62});
    EXPECT_NE(std::get<std::string>(pm.physical_address(0x10)).find("not in host RAM"),
              std::string::npos);
    EXPECT_NE(std::get<std::string>(pm.physical_address(0x1000)).find("CAP_SYS_ADMIN"),
              std::string::npos);
    EXPECT_NE(std::get<std::string>(pm.physical_address(0x2000)).find("swapped"),
              std::string::npos);
    EXPECT_NE(std::get<std::string>(pm.physical_address(0x9000)).find("short read"),
              std::string::npos);
    HostPagemap none(UniqueFd(), "no pagemap here");
    EXPECT_EQ(std::get<std::string>(none.physical_address(0)), "no pagemap here");
}

TEST(HostPagemap, OwnTouchedPageIsPresent) {
    static volatile uint64_t touched = 1;
    touched = touched + 1;
    auto hpa = HostPagemap::open().physical_address(reinterpret_cast<uint64_t>(&touched));
    if (::geteuid() == 0) {
        ASSERT_TRUE(std::holds_alternative<uint64_t>(hpa)) << std::get<std::string>(hpa);
        EXPECT_EQ(std::get<uint64_t>(hpa) % 4096, reinterpret_cast<uint64_t>(&touched) % 4096);
    } else {
        ASSERT_TRUE(std::holds_alternative<std::string>(hpa));
        EXPECT_NE(std::get<std::string>(hpa).find("CAP_SYS_ADMIN"), std::string::npos);
    }
}

} // namespace
} // namespace minivmm
