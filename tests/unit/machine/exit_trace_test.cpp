#include "machine/exit_trace.hpp"

#include <gtest/gtest.h>

namespace minivmm {
namespace {

TEST(ExitTrace, FormatsPortWriteWithDevice) {
    uint8_t data[1] = {0x48};
    VcpuExit e;
    e.reason = ExitReason::Io;
    e.raw_reason = KVM_EXIT_IO;
    e.is_write = true;
    e.address = 0x3f8;
    e.size = 1;
    e.data = data;
    std::string dev = "serial";
    EXPECT_EQ(format_exit_trace(0, e, &dev), "vcpu0 IO out port=0x3f8 size=1 value=0x48 -> serial");
}

TEST(ExitTrace, FormatsUnhandledStringRead) {
    uint8_t data[4] = {0xff, 0xff, 0, 0};
    VcpuExit e;
    e.reason = ExitReason::Io;
    e.raw_reason = KVM_EXIT_IO;
    e.address = 0x60;
    e.size = 2;
    e.count = 2;
    e.data = data;
    EXPECT_EQ(format_exit_trace(1, e, nullptr),
              "vcpu1 IO in port=0x60 size=2 value=0xffff count=2 -> unhandled");
}

TEST(ExitTrace, FormatsMmioLittleEndian) {
    uint8_t data[8] = {0x4d, 0x56, 0x4d, 0x4d};
    VcpuExit e;
    e.reason = ExitReason::Mmio;
    e.raw_reason = KVM_EXIT_MMIO;
    e.address = 0xd0000000;
    e.size = 4;
    e.data = data;
    std::string dev = "scratch";
    EXPECT_EQ(format_exit_trace(0, e, &dev),
              "vcpu0 MMIO read addr=0xd0000000 size=4 value=0x4d4d564d -> scratch");
}

TEST(ExitTrace, FormatsHltAndInternalError) {
    VcpuExit e;
    e.reason = ExitReason::Hlt;
    e.raw_reason = KVM_EXIT_HLT;
    EXPECT_EQ(format_exit_trace(0, e, nullptr), "vcpu0 HLT");
    e.reason = ExitReason::InternalError;
    e.raw_reason = KVM_EXIT_INTERNAL_ERROR;
    e.suberror = 1;
    EXPECT_EQ(format_exit_trace(2, e, nullptr), "vcpu2 INTERNAL_ERROR suberror=1");
}

TEST(ExitTrace, LoadLeReadsOnlySizeBytes) {
    uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    EXPECT_EQ(load_le(data, 2), 0x0201u);
    EXPECT_EQ(load_le(data, 8), 0x0807060504030201u);
}

// The history keeps the last kSize exits with their own copy of the data bytes (the kvm_run
// page they point into is rewritten by the next exit), oldest first.
TEST(ExitHistory, KeepsTheLastExitsWithTheirOwnBytes) {
    ExitHistory h;
    EXPECT_EQ(h.format(0, 0), "");
    std::string dev = "serial";
    uint8_t page[8] = {};
    for (uint32_t i = 0; i < ExitHistory::kSize + 3; ++i) {
        VcpuExit e;
        e.reason = ExitReason::Io;
        e.raw_reason = KVM_EXIT_IO;
        e.is_write = true;
        e.address = 0x3f8;
        e.size = 1;
        page[0] = static_cast<uint8_t>('a' + i);
        e.data = page;
        h.record(e, &dev, 1000 + i);
    }
    page[0] = 0;   // the next exit rewrote the page: the history must not show it
    VcpuExit hlt;
    hlt.reason = ExitReason::Hlt;
    hlt.raw_reason = KVM_EXIT_HLT;
    h.record(hlt, nullptr, 1100);
    std::string s = h.format(2, 1100);
    EXPECT_EQ(s.substr(0, s.find('\n')), "last 16 exits of vcpu2 (of 20), oldest first:");
    // Exits 0-3 were overwritten; the oldest kept is exit 4 ('e' at 1004 ms).
    EXPECT_EQ(s.find("value=0x64"), std::string::npos) << s;
    EXPECT_NE(s.find("\n  -96 ms vcpu2 IO out port=0x3f8 size=1 value=0x65 -> serial\n"),
              std::string::npos) << s;
    EXPECT_NE(s.find("\n  -82 ms vcpu2 IO out port=0x3f8 size=1 value=0x73 -> serial\n"),
              std::string::npos) << s;
    EXPECT_TRUE(s.ends_with("\n  -0 ms vcpu2 HLT")) << s;
}

} // namespace
} // namespace minivmm
