// The uart-vs-console demo run natively: the same 64 KiB through the UART and through
// virtio-console, with --stats. Checks the counts are sane, not the exact figures: the UART path
// costs at least one exit per byte, the virtio path a few register accesses for all of it.
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "run_process.hpp"

namespace {

using minivmm::test::run_process;

uint64_t stats_row(const std::string& err, const std::string& device) {
    std::smatch m;
    if (!std::regex_search(err, m, std::regex("\n  " + device + " +([0-9]+) "))) return 0;
    return std::stoull(m[1]);
}

std::string slurp(const std::string& path) {
    std::ifstream f(path);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}

TEST(Demos, UartVsConsoleSendsTheSame64KiBWithFarFewerExitsThroughVirtio) {
    REQUIRE_KVM();
    const std::string dir = "/tmp/minivmm-uvc-" + std::to_string(::getpid());
    ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
    const std::string out = dir + "/console.out", serial = dir + "/serial.out";
    auto r = run_process({MINIVMM_BINARY, "--demo", "uart-vs-console", "--console", "file=" + out,
                          "--serial", "file:" + serial, "--stats"},
                         120);
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::string console_bytes = slurp(out), uart = slurp(serial);
    ASSERT_EQ(console_bytes.size(), 65536u);
    EXPECT_EQ(console_bytes.substr(0, 64), "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk\n");
    EXPECT_NE(uart.find(console_bytes), std::string::npos);   // the same 64 KiB through the UART

    const uint64_t uart_exits = stats_row(r.err, "serial");
    const uint64_t virtio_exits = stats_row(r.err, "virtio-console0");
    EXPECT_GE(uart_exits, 65536u) << r.err;   // at least one exit a byte
    EXPECT_GT(virtio_exits, 0u) << r.err;
    EXPECT_LT(virtio_exits * 1000, uart_exits) << r.err;   // under one per 1000 UART exits
    EXPECT_NE(r.err.find("console0 (file=" + out + "): 65536 bytes out"), std::string::npos)
        << r.err;
    // The guest's own timing: the UART path is the slower one.
    std::smatch m;
    ASSERT_TRUE(std::regex_search(uart, m, std::regex("the uart took ([0-9]+) times as long")));
    EXPECT_GT(std::stoull(m[1]), 1u);
    std::system(("rm -rf " + dir).c_str());
}

} // namespace
