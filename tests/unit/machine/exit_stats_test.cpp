#include "machine/exit_stats.hpp"

#include <gtest/gtest.h>

namespace minivmm {
namespace {

TEST(ExitStats, CountsByReasonAndDevice) {
    ExitStats s;
    s.record("IO", "serial", 1000, 100);
    s.record("IO", "serial", 3000, 300);
    s.record("IO", "unhandled", 500, 50);
    s.record("HLT", "", 200, 20);
    EXPECT_EQ(s.by_reason().at("IO").count, 3u);
    EXPECT_EQ(s.by_reason().at("IO").run_ns, 4500u);
    EXPECT_EQ(s.by_reason().at("HLT").count, 1u);
    EXPECT_EQ(s.by_device().at("serial").count, 2u);
    EXPECT_EQ(s.by_device().at("serial").handle_ns, 400u);
    EXPECT_EQ(s.by_device().count(""), 0u);   // exits without a device are not a device row
}

TEST(ExitStats, MergeAddsPerVcpuTables) {
    ExitStats a, b;
    a.record("IO", "serial", 10, 1);
    b.record("IO", "serial", 20, 2);
    b.record("MMIO", "scratch", 30, 3);
    a.merge(b);
    EXPECT_EQ(a.by_reason().at("IO").count, 2u);
    EXPECT_EQ(a.by_reason().at("IO").run_ns, 30u);
    EXPECT_EQ(a.by_device().at("scratch").count, 1u);
}

TEST(ExitStats, FormatShowsMicrosecondsPerExit) {
    ExitStats s;
    s.record("IO", "unhandled", 9000, 1000);   // 10 us round trip
    s.record("IO", "unhandled", 9000, 1000);
    std::string table = s.format(1.0);
    EXPECT_NE(table.find("(2 exits in 1.000 s)"), std::string::npos) << table;
    EXPECT_NE(table.find("10.00"), std::string::npos) << table;
    EXPECT_NE(table.find("by device"), std::string::npos);
}

} // namespace
} // namespace minivmm
