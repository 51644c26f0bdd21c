// Unit tests for write_ram_file (vmm/memory/ram_file.hpp): the memory file holds the RAM's
// bytes at their offsets whichever way its pages were found zero (never touched, so skipped by
// the page map; written and then zeroed; only read), zero pages are holes, and RAM mapped from
// a file is read whole (its pages not present in this process are the file's, not zero).
#include "memory/ram_file.hpp"

#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <set>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "base/host_pagemap.hpp"
#include "base/unique_fd.hpp"

namespace minivmm {
namespace {

constexpr uint64_t PAGE = 4096;
constexpr uint64_t MiB = 1ULL << 20;

using Ranges = std::vector<std::pair<GuestAddress, uint64_t>>;

struct TempFile {
    std::string path;
    UniqueFd fd;
    TempFile() {
        path = (std::filesystem::temp_directory_path() / "minivmm-ram-file-XXXXXX").string();
        fd = UniqueFd(::mkstemp(path.data()));
    }
    ~TempFile() { ::unlink(path.c_str()); }
    std::vector<uint8_t> contents() const {
        std::vector<uint8_t> out(static_cast<size_t>(::lseek(fd.get(), 0, SEEK_END)));
        EXPECT_EQ(::pread(fd.get(), out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
        return out;
    }
    // The file's pages that hold data (SEEK_DATA/SEEK_HOLE).
    std::set<uint64_t> data_pages() const {
        std::set<uint64_t> pages;
        const off_t end = ::lseek(fd.get(), 0, SEEK_END);
        for (off_t at = 0; at < end;) {
            const off_t data = ::lseek(fd.get(), at, SEEK_DATA);
            if (data < 0) break;
            const off_t hole = ::lseek(fd.get(), data, SEEK_HOLE);
            for (off_t p = data; p < hole; p += static_cast<off_t>(PAGE)) pages.insert(static_cast<uint64_t>(p) / PAGE);
            at = hole;
        }
        return pages;
    }
};

// The RAM as one buffer, its regions in address order (the memory file's layout).
std::vector<uint8_t> flatten(const GuestMemory& m) {
    std::vector<uint8_t> out;
    for (const MemoryRegion& r : m.regions()) out.insert(out.end(), r.host, r.host + r.size);
    return out;
}

// Two regions; the second spans more than one batch of page-map entries (32 MiB), with a run
// of written pages across the batch boundary.
class RamFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        auto m = GuestMemory::create({{GuestAddress(0), 4 * MiB}, {GuestAddress(64 * MiB), 40 * MiB}});
        ASSERT_TRUE(m) << m.error().message();
        memory.emplace(std::move(*m));
        low = memory->regions()[0].host;
        high = memory->regions()[1].host;
        // Written: a page, the last page of the low region, a run across 32 MiB.
        std::memset(low + 5 * PAGE, 0xa5, PAGE);
        low[4 * MiB - 1] = 1;
        for (uint64_t p = 32 * MiB - 3 * PAGE; p < 32 * MiB + 2 * PAGE; p += PAGE) high[p + 7] = 0x3c;
        // Written, then zeroed: present but zero, so a hole.
        std::memset(low + 9 * PAGE, 0x77, PAGE);
        std::memset(low + 9 * PAGE, 0, PAGE);
        // Only read: the zero page mapped, present, a hole.
        volatile uint8_t sink = high[20 * MiB];
        (void)sink;
    }
    // The pages (of the file) written above: everything else must be a hole.
    std::set<uint64_t> written_pages() const {
        std::set<uint64_t> pages = {5, 4 * MiB / PAGE - 1};
        for (uint64_t p = 32 * MiB - 3 * PAGE; p < 32 * MiB + 2 * PAGE; p += PAGE)
            pages.insert((4 * MiB + p) / PAGE);
        return pages;
    }
    std::optional<GuestMemory> memory;
    uint8_t* low = nullptr;
    uint8_t* high = nullptr;
};

TEST_F(RamFileTest, WithThePageMapUntouchedPagesAreSkippedAndTheFileIsTheRam) {
    HostPagemap pagemap = HostPagemap::open();
    TempFile file;
    auto stats = write_ram_file(*memory, file.fd.get(), &pagemap, file.path);
    ASSERT_TRUE(stats) << stats.error().message();
    EXPECT_EQ(stats->pages, 44 * MiB / PAGE);
    EXPECT_EQ(stats->written, written_pages().size());
    // Most of the RAM was never touched (transparent huge pages may make some of it present).
    EXPECT_GT(stats->skipped, 20 * MiB / PAGE);
    EXPECT_EQ(file.contents(), flatten(*memory));
    EXPECT_EQ(file.data_pages(), written_pages());
}

TEST_F(RamFileTest, WithoutThePageMapEveryPageIsReadAndTheFileIsTheSame) {
    TempFile file;
    auto stats = write_ram_file(*memory, file.fd.get(), nullptr, file.path);
    ASSERT_TRUE(stats) << stats.error().message();
    EXPECT_EQ(stats->skipped, 0u);
    EXPECT_EQ(stats->written, written_pages().size());
    EXPECT_EQ(file.contents(), flatten(*memory));
    EXPECT_EQ(file.data_pages(), written_pages());
}

// A page given back to the kernel (MADV_DONTNEED: what a balloon or a discard does) after it
// was written is neither present nor swapped, and reads as zero: a hole, not its old bytes.
TEST_F(RamFileTest, APageGivenBackIsAHole) {
    ASSERT_EQ(::madvise(low + 5 * PAGE, PAGE, MADV_DONTNEED), 0);
    HostPagemap pagemap = HostPagemap::open();
    TempFile file;
    auto stats = write_ram_file(*memory, file.fd.get(), &pagemap, file.path);
    ASSERT_TRUE(stats) << stats.error().message();
    std::set<uint64_t> expect = written_pages();
    expect.erase(5);
    EXPECT_EQ(file.data_pages(), expect);
    EXPECT_EQ(file.contents(), flatten(*memory));
}

// A restored guest's RAM is its memory file mapped copy-on-write: pages it has not touched are
// not present in this process, yet hold the file's bytes. They must be written, not skipped.
TEST(RamFile, RamMappedFromAFileIsReadWhole) {
    TempFile backing;
    std::vector<uint8_t> page(PAGE, 0x5a);
    ASSERT_EQ(::pwrite(backing.fd.get(), page.data(), PAGE, 3 * PAGE), static_cast<ssize_t>(PAGE));
    ASSERT_EQ(::pwrite(backing.fd.get(), page.data(), PAGE, 4 * MiB + 2 * PAGE), static_cast<ssize_t>(PAGE));
    ASSERT_EQ(::ftruncate(backing.fd.get(), 8 * MiB), 0);
    auto m = GuestMemory::create({{GuestAddress(0), 4 * MiB}, {GuestAddress(16 * MiB), 4 * MiB}},
                                 backing.fd.get());
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_TRUE(m->file_backed());
    // Written by the guest after the restore: a private copy.
    m->regions()[0].host[7 * PAGE] = 9;
    HostPagemap pagemap = HostPagemap::open();
    TempFile file;
    auto stats = write_ram_file(*m, file.fd.get(), &pagemap, file.path);
    ASSERT_TRUE(stats) << stats.error().message();
    EXPECT_EQ(stats->skipped, 0u);
    EXPECT_EQ(stats->written, 3u);
    EXPECT_EQ(file.data_pages(), (std::set<uint64_t>{3, 7, 4 * MiB / PAGE + 2}));
    EXPECT_EQ(file.contents(), flatten(*m));
}

} // namespace
} // namespace minivmm
