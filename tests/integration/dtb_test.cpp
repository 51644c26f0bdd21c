// --dump-dtb: the device tree of the machine the options describe, written without /dev/kvm
// (so these run on any host), read back with `dtc`; and the bad inputs it still refuses.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "run_process.hpp"

namespace {

using minivmm::test::run_process;
namespace fs = std::filesystem;

class DumpDtb : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("minivmm-dtb-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string path(const char* name) const { return (dir_ / name).string(); }
    fs::path dir_;
};

TEST_F(DumpDtb, WritesTheMachineAndExitsWithoutRunningIt) {
    if (access("/usr/bin/dtc", X_OK) != 0) GTEST_SKIP() << "needs dtc (device-tree-compiler)";
    // Works without /dev/kvm: a bogus --kvm path would fail any run that opened it.
    auto r = run_process({MINIVMM_BINARY, "--kernel", MINIVMM_PVH_GUEST, "--cpus", "3", "--mem",
                          "5G", "--dump-dtb", path("m.dtb")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "");
    ASSERT_GT(fs::file_size(path("m.dtb")), 0u);
    auto dts = run_process({"/usr/bin/dtc", "-I", "dtb", "-O", "dts", path("m.dtb")});
    ASSERT_EQ(dts.exit_code, 0) << dts.err;
    EXPECT_EQ(dts.err, "");
    for (const char* needle :
         {"memory@0 {", "reg = <0x00 0x00 0x00 0xc0000000>;", "memory@100000000 {",
          "reg = <0x01 0x00 0x00 0x80000000>;", "cpu@0 {", "cpu@1 {", "cpu@2 {",
          "serial@3f8 {", "ioapic@fec00000 {"})
        EXPECT_NE(dts.out.find(needle), std::string::npos) << needle << "\n" << dts.out;
    EXPECT_EQ(dts.out.find("cpu@3 {"), std::string::npos);
}

TEST_F(DumpDtb, DemoMachineHasOneCpuAndDefaultMemory) {
    if (access("/usr/bin/dtc", X_OK) != 0) GTEST_SKIP() << "needs dtc (device-tree-compiler)";
    auto r = run_process({MINIVMM_BINARY, "--dump-dtb", path("demo.dtb")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto dts = run_process({"/usr/bin/dtc", "-I", "dtb", "-O", "dts", path("demo.dtb")});
    ASSERT_EQ(dts.exit_code, 0) << dts.err;
    EXPECT_NE(dts.out.find("reg = <0x00 0x00 0x00 0x1000000>;"), std::string::npos) << dts.out;
    EXPECT_EQ(dts.out.find("cpu@1 {"), std::string::npos);
}

// The virtio devices come from the machine's plan, made before /dev/kvm: every --disk and
// --net is a virtio_mmio node with the window and interrupt the guest would get. The tap is
// not opened (none named mvmm-no-tap exists).
TEST_F(DumpDtb, ListsEveryVirtioDeviceWithItsWindowAndInterrupt) {
    if (access("/usr/bin/dtc", X_OK) != 0) GTEST_SKIP() << "needs dtc (device-tree-compiler)";
    for (const char* name : {"a.img", "b.img"}) {
        std::ofstream(path(name)).close();
        fs::resize_file(path(name), 1 << 20);
    }
    auto r = run_process({MINIVMM_BINARY, "--kernel", MINIVMM_PVH_GUEST, "--disk", path("a.img"),
                          "--disk", path("b.img") + ",ro", "--net", "mvmm-no-tap", "--kvm",
                          "/nonexistent/kvm", "--dump-dtb", path("v.dtb")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    auto dts = run_process({"/usr/bin/dtc", "-I", "dtb", "-O", "dts", path("v.dtb")});
    ASSERT_EQ(dts.exit_code, 0) << dts.err;
    EXPECT_EQ(dts.err, "");
    // Slot i: window 0xd0001000 + i * 0x1000, IOAPIC pin 5, 6, 7 (disks first, then the net).
    const struct {
        const char* base;
        const char* irq;
    } nodes_expected[] = {{"d0001000", "0x05"}, {"d0002000", "0x06"}, {"d0003000", "0x07"}};
    for (const auto& n : nodes_expected) {
        size_t at = dts.out.find("virtio_mmio@" + std::string(n.base) + " {");
        ASSERT_NE(at, std::string::npos) << n.base << "\n" << dts.out;
        std::string node = dts.out.substr(at, dts.out.find("};", at) - at);
        EXPECT_NE(node.find("compatible = \"virtio,mmio\";"), std::string::npos) << node;
        EXPECT_NE(node.find("reg = <0x00 0x" + std::string(n.base) + " 0x00 0x1000>;"),
                  std::string::npos) << node;
        EXPECT_NE(node.find("interrupts = <" + std::string(n.irq) + " 0x00>;"), std::string::npos)
            << node;
    }
    size_t nodes = 0;
    for (size_t at = dts.out.find("compatible = \"virtio,mmio\""); at != std::string::npos;
         at = dts.out.find("compatible = \"virtio,mmio\"", at + 1))
        ++nodes;
    EXPECT_EQ(nodes, 3u) << dts.out;
    EXPECT_EQ(dts.out.find("virtio_mmio@d0004000"), std::string::npos);
}

TEST_F(DumpDtb, InputsAreStillCheckedAndTheFileMustBeWritable) {
    auto missing = run_process({MINIVMM_BINARY, "--kernel", MINIVMM_PVH_GUEST, "--initrd",
                                path("nope"), "--dump-dtb", path("x.dtb")});
    EXPECT_EQ(missing.exit_code, 3) << missing.err;
    EXPECT_NE(missing.err.find("Cannot open initrd"), std::string::npos) << missing.err;
    EXPECT_FALSE(fs::exists(path("x.dtb")));

    auto unwritable = run_process({MINIVMM_BINARY, "--dump-dtb", path("no-such-dir/x.dtb")});
    EXPECT_EQ(unwritable.exit_code, 3) << unwritable.err;
    EXPECT_EQ(unwritable.err.rfind("minivmm: error: Cannot write the device tree to ", 0), 0u)
        << unwritable.err;
    EXPECT_EQ(std::count(unwritable.err.begin(), unwritable.err.end(), '\n'), 1);
}

} // namespace
