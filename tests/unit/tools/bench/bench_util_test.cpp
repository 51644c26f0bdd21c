// The CPU accounting of tools/bench/bench_util.hpp (host CPU per request in the benchmarks), on
// a made-up /proc/PID/task tree.
#include "bench_util.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

class ProcessCpuTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("bench-util-test." + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    // One thread: TASK/TID/comm and, unless empty, TASK/TID/schedstat.
    void thread(const std::string& tid, const std::string& comm, const std::string& schedstat) {
        fs::create_directories(dir_ / tid);
        std::ofstream(dir_ / tid / "comm") << comm << "\n";
        if (!schedstat.empty()) std::ofstream(dir_ / tid / "schedstat") << schedstat << "\n";
    }
    fs::path dir_;
};

TEST_F(ProcessCpuTest, SplitsVcpuThreadsFromTheOthers) {
    thread("101", "vcpu0", "2000000000 17 4");      // minivmm's vCPU: 2 s
    thread("102", "CPU 1/KVM", "1000000000 3 2");   // QEMU's vCPU: 1 s
    thread("103", "io", "500000000 9 9");           // 0.5 s
    thread("104", "IO io0", "250000000 1 1");       // 0.25 s
    thread("105", "gone", "");                      // exited between readdir and read
    const bench::ProcessCpu cpu = bench::process_cpu(dir_.string());
    EXPECT_DOUBLE_EQ(cpu.vcpu, 3.0);
    EXPECT_DOUBLE_EQ(cpu.other, 0.75);
    EXPECT_DOUBLE_EQ(cpu.all(), 3.75);
}

TEST_F(ProcessCpuTest, DifferenceIsPerKind) {
    thread("1", "vcpu0", "1000000000 0 0");
    thread("2", "io", "3000000000 0 0");
    const bench::ProcessCpu before = bench::process_cpu(dir_.string());
    thread("1", "vcpu0", "4000000000 0 0");
    thread("2", "io", "3500000000 0 0");
    const bench::ProcessCpu d = bench::process_cpu(dir_.string()) - before;
    EXPECT_DOUBLE_EQ(d.vcpu, 3.0);
    EXPECT_DOUBLE_EQ(d.other, 0.5);
}

TEST(ProcessCpu, MissingDirectoryIsZero) {
    const bench::ProcessCpu cpu = bench::process_cpu(std::string("/nonexistent/task"));
    EXPECT_EQ(cpu.all(), 0.0);
}

TEST(CpuCell, MediansInMicrosecondsWithTheShareBesidesTheVcpu) {
    EXPECT_EQ(bench::cpu_cell({3e-6, 1e-6, 2e-6}, {0.5e-6, 0.25e-6, 1e-6}), "2.00 [0.50]");
    EXPECT_EQ(bench::cpu_cell({1e-6, 2e-6}, {}), "1.50");   // the raw loop: one figure
    EXPECT_EQ(bench::cpu_cell({}, {}), "n/a");
}

} // namespace
