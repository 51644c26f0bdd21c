// Unit tests for Mapping (vmm/base/mapping.hpp): anonymous and shared mmaps released by munmap.
#include "base/mapping.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "base/unique_fd.hpp"

namespace minivmm {
namespace {

constexpr size_t PAGE = 4096;

// mincore() fails with ENOMEM when any page of the range is not mapped.
bool is_mapped(const void* addr, size_t size) {
    unsigned char vec[16] = {};
    EXPECT_LE(size / PAGE, sizeof vec);
    return ::mincore(const_cast<void*>(addr), size, vec) == 0;
}

// The VmFlags line of the /proc/self/smaps entry that starts at `addr`, or "" if none.
std::string vm_flags_of(const void* addr) {
    std::ifstream smaps("/proc/self/smaps");
    std::string line;
    bool in_entry = false;
    auto start = reinterpret_cast<uintptr_t>(addr);
    while (std::getline(smaps, line)) {
        uintptr_t lo = 0, hi = 0;
        if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR " ", &lo, &hi) == 2 &&
            line.find(':') > line.find(' ')) {
            in_entry = lo <= start && start < hi;
        } else if (in_entry && line.rfind("VmFlags:", 0) == 0) {
            return line;
        }
    }
    return {};
}

TEST(Mapping, DefaultIsEmpty) {
    Mapping m;
    EXPECT_EQ(m.data(), nullptr);
    EXPECT_EQ(m.size(), 0u);
}

TEST(Mapping, AnonymousRefusesZeroBytes) {
    auto m = Mapping::anonymous(0);
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().code(), ErrorCode::Invalid);
}

TEST(Mapping, AnonymousIsZeroedAndWritable) {
    auto m = Mapping::anonymous(2 * PAGE);
    ASSERT_TRUE(m.has_value()) << m.error().message();
    ASSERT_NE(m->data(), nullptr);
    EXPECT_EQ(m->size(), 2 * PAGE);
    for (size_t i = 0; i < m->size(); ++i) ASSERT_EQ(m->data()[i], 0) << "byte " << i;
    m->data()[0] = 0xaa;
    m->data()[2 * PAGE - 1] = 0x55;
    EXPECT_EQ(m->data()[0], 0xaa);
    EXPECT_EQ(m->data()[2 * PAGE - 1], 0x55);
}

TEST(Mapping, AnonymousIsExcludedFromCoreDumpsAndNotExecutable) {
    auto m = Mapping::anonymous(PAGE);
    ASSERT_TRUE(m.has_value()) << m.error().message();
    std::string flags = vm_flags_of(m->data());
    ASSERT_FALSE(flags.empty()) << "mapping not found in /proc/self/smaps";
    EXPECT_NE(flags.find(" dd"), std::string::npos) << flags;
    EXPECT_EQ(flags.find(" ex"), std::string::npos) << flags;
}

TEST(Mapping, DestructorUnmaps) {
    void* addr = nullptr;
    {
        auto m = Mapping::anonymous(PAGE);
        ASSERT_TRUE(m.has_value()) << m.error().message();
        addr = m->data();
        EXPECT_TRUE(is_mapped(addr, PAGE));
    }
    EXPECT_FALSE(is_mapped(addr, PAGE));
}

TEST(Mapping, MoveConstructionTransfersOwnership) {
    auto m = Mapping::anonymous(PAGE);
    ASSERT_TRUE(m.has_value()) << m.error().message();
    uint8_t* addr = m->data();
    {
        Mapping moved(std::move(*m));
        EXPECT_EQ(m->data(), nullptr);   // NOLINT(bugprone-use-after-move)
        EXPECT_EQ(m->size(), 0u);
        EXPECT_EQ(moved.data(), addr);
        EXPECT_EQ(moved.size(), PAGE);
        EXPECT_TRUE(is_mapped(addr, PAGE));
    }
    EXPECT_FALSE(is_mapped(addr, PAGE));
}

TEST(Mapping, MoveAssignmentUnmapsPrevious) {
    auto a = Mapping::anonymous(PAGE);
    auto b = Mapping::anonymous(PAGE);
    ASSERT_TRUE(a.has_value() && b.has_value());
    uint8_t* old_a = a->data();
    uint8_t* old_b = b->data();
    *a = std::move(*b);
    EXPECT_FALSE(is_mapped(old_a, PAGE));
    EXPECT_TRUE(is_mapped(old_b, PAGE));
    EXPECT_EQ(a->data(), old_b);
    EXPECT_EQ(b->data(), nullptr);   // NOLINT(bugprone-use-after-move)
}

TEST(Mapping, SharedSeesFileContents) {
    UniqueFd fd(::memfd_create("mapping_test", MFD_CLOEXEC));
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::ftruncate(fd.get(), PAGE), 0);
    const char text[] = "kvm_run";
    ASSERT_EQ(::pwrite(fd.get(), text, sizeof text, 0), static_cast<ssize_t>(sizeof text));

    auto m = Mapping::shared(fd.get(), PAGE);
    ASSERT_TRUE(m.has_value()) << m.error().message();
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(m->data())), "kvm_run");

    m->data()[0] = 'K';
    char back = 0;
    ASSERT_EQ(::pread(fd.get(), &back, 1, 0), 1);
    EXPECT_EQ(back, 'K');
}

TEST(Mapping, SharedRefusesBadFd) {
    auto m = Mapping::shared(-1, PAGE);
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().code(), ErrorCode::Host);
    EXPECT_EQ(m.error().sys_errno(), EBADF);
}

} // namespace
} // namespace minivmm
