// The memory made visible: `--demo paging` (the explain port's walk checked against the demo's
// known mapping and KVM_TRANSLATE) and `--show-memory` (the slots and the layout).
#include <regex>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "marker_walk.hpp"
#include "run_process.hpp"
#include "scratch_disk_test.hpp"

namespace {

using minivmm::test::run_process;

// The part of `text` from the line starting with `from` up to (not including) the next line
// starting with "minivmm: ", or the end.
std::string section(const std::string& text, const std::string& from) {
    size_t start = text.find(from);
    if (start == std::string::npos) return "";
    size_t end = text.find("\nminivmm: ", start + 1);
    return text.substr(start, end == std::string::npos ? std::string::npos : end + 1 - start);
}

bool has(const std::string& text, const std::string& pattern) {
    return std::regex_search(text, std::regex(pattern));
}

TEST(MemoryView, PagingDemoWalksTheMarkerDownToTheHostPage) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--demo", "paging"});
    ASSERT_FALSE(r.timed_out);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "paging demo: mapped GVA 0x7f1234567000 -> GPA 0xabc000 "
                           "\\(PML4 at 0x[0-9a-f]{6}\\)\n"))
        << r.out;
    EXPECT_NE(r.out.find("the identity-mapped alias holds the same bytes"), std::string::npos);

    // 1. The marker: four levels, the demo's indices, a 4 KiB page at 0xabc000.
    std::string w = section(r.err, "minivmm: explain GVA 0x7f12345679a0 (vcpu0)");
    ASSERT_FALSE(w.empty()) << r.err;
    minivmm::test::expect_marker_walk(w);

    // 2. The same byte through the identity map: three levels, a 2 MiB page, the same GPA.
    std::string alias = section(r.err, "minivmm: explain GVA 0xabc9a0 (vcpu0)");
    ASSERT_FALSE(alias.empty()) << r.err;
    EXPECT_TRUE(has(alias, "PD  \\[  5\\] at GPA 0x[0-9a-f]+: 0x0000000000a000[0-9a-f]{2} P W U.* PS"
                           ".*-> 2 MiB page at GPA 0xa00000\n")) << alias;
    EXPECT_EQ(alias.find("PT  ["), std::string::npos);
    EXPECT_NE(alias.find("KVM_TRANSLATE: GPA 0xabc9a0"), std::string::npos);
    EXPECT_NE(alias.find("\"hello from a GVA\""), std::string::npos);

    // 3. The next page: the walk stops at the PT, and KVM agrees there is no translation.
    std::string none = section(r.err, "minivmm: explain GVA 0x7f1234568000 (vcpu0)");
    ASSERT_FALSE(none.empty()) << r.err;
    EXPECT_NE(none.find("PT  [360] at GPA"), std::string::npos) << none;
    EXPECT_NE(none.find("walk stopped: PT[360] is not present: a page fault\n"), std::string::npos);
    EXPECT_NE(none.find("KVM_TRANSLATE: no translation, as above\n"), std::string::npos) << none;
    EXPECT_EQ(none.find("memory slot"), std::string::npos);
}

TEST(MemoryView, ShowMemoryPrintsSlotsAndLayout) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--demo", "status", "--show-memory", "--mem", "32M"});
    EXPECT_EQ(r.exit_code, 42) << r.err;
    std::string t = section(r.err, "minivmm: guest memory (1 memory slot)\n");
    ASSERT_FALSE(t.empty()) << r.err;
    EXPECT_TRUE(has(t, "\n  0     0x000000000000-0x000001ffffff    32 MiB 0x[0-9a-f]{16} read-write\n"))
        << t;
    EXPECT_TRUE(has(t, "\n  0x000000100000-0x[0-9a-f]{12} +[0-9.]+ (bytes|KiB) RAM \\(slot 0\\) +"
                       "demo 'status': flat binary")) << t;
    EXPECT_NE(t.find("  0x0000c0000000-0x0000ffffffff     1 GiB no RAM        32-bit MMIO hole"),
              std::string::npos) << t;
    EXPECT_NE(t.find("  0x0000d0000000-0x0000d0000fff     4 KiB no RAM        scratch MMIO device"),
              std::string::npos) << t;
}

class MemoryViewDisk : public minivmm::test::ScratchDiskTest {};

TEST_F(MemoryViewDisk, ShowMemoryListsKernelStructuresAndVirtioWindows) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--kernel", MINIVMM_PVH_GUEST, "--mem", "64M",
                          "--cmdline", "status=7", "--show-memory", "--disk", disk_});
    EXPECT_EQ(r.exit_code, 7) << r.err;
    std::string t = section(r.err, "minivmm: guest memory (1 memory slot)\n");
    ASSERT_FALSE(t.empty()) << r.err;
    for (const char* line : {
             "  0x000000006000-0x000000006fff     4 KiB RAM (slot 0)  PVH hvm_start_info",
             "  0x0000000e0000-0x0000000effff    64 KiB RAM (slot 0)  ACPI tables",
             "  0x0000000f0000-0x0000000fffff    64 KiB RAM (slot 0)  MP floating pointer",
             "  0x0000d0001000-0x0000d0001fff     4 KiB no RAM        virtio-blk0 at 0xd0001000, irq 5",
             "  0x0000fec00000-0x0000fec00fff     4 KiB no RAM        IOAPIC (in KVM)",
         })
        EXPECT_NE(t.find(line), std::string::npos) << line << "\n" << t;
    EXPECT_TRUE(has(t, "  0x000000100000-0x[0-9a-f]{12} +[0-9.]+ KiB RAM \\(slot 0\\)  kernel: PVH ELF"))
        << t;
}

TEST(MemoryView, LogLevelInfoGivesOneLinePerRegion) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--demo", "status", "--log-level", "info"});
    EXPECT_EQ(r.exit_code, 42) << r.err;
    EXPECT_TRUE(has(r.err, "memory slot 0: GPA 0x0-0xffffff \\(16 MiB\\) at HVA 0x[0-9a-f]+, "
                           "read-write\n")) << r.err;
    EXPECT_NE(r.err.find("memory map: GPA 0xc0000000-0xffffffff (1 GiB, no RAM): 32-bit MMIO hole"),
              std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("minivmm: guest memory"), std::string::npos) << "the table needs --show-memory";
}

} // namespace
