// Tests of firmware/fdt: the blob read back with libfdt, and compiled back to source by `dtc`
// (device-tree-compiler; the test skips, saying so, when dtc is missing).
#include "fdt.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>
#include <libfdt.h>

#include "memory/layout.hpp"
#include "run_process.hpp"

namespace minivmm::firmware {
namespace {

FdtConfig two_cpus_two_devices() {
    FdtConfig c;
    c.ram_size = 256ULL << 20;
    c.num_vcpus = 2;
    c.virtio_devices = {{0xd000'1000, 0x1000, 5}, {0xd000'2000, 0x1000, 6}};
    return c;
}

std::string prop_string(const void* fdt, int node, const char* name) {
    int len = 0;
    const void* p = fdt_getprop(fdt, node, name, &len);
    if (p == nullptr || len <= 0) return "<missing>";
    return std::string(static_cast<const char*>(p), static_cast<size_t>(len - 1));
}

std::vector<uint32_t> prop_cells(const void* fdt, int node, const char* name) {
    int len = 0;
    const auto* p = static_cast<const fdt32_t*>(fdt_getprop(fdt, node, name, &len));
    std::vector<uint32_t> out;
    for (int i = 0; p != nullptr && i < len / 4; ++i) out.push_back(fdt32_to_cpu(p[i]));
    return out;
}

TEST(Fdt, BlobIsValidAndDescribesMemoryCpusAndDevices) {
    auto blob = build_fdt(two_cpus_two_devices());
    ASSERT_TRUE(blob.has_value()) << blob.error().message();
    const void* fdt = blob->data();
    ASSERT_EQ(fdt_check_header(fdt), 0);
    EXPECT_EQ(fdt_totalsize(fdt), blob->size());

    EXPECT_EQ(prop_string(fdt, 0, "compatible"), "minivmm,x86-64");
    EXPECT_EQ(prop_cells(fdt, 0, "#address-cells"), std::vector<uint32_t>{2});
    int mem = fdt_path_offset(fdt, "/memory@0");
    ASSERT_GE(mem, 0);
    EXPECT_EQ(prop_string(fdt, mem, "device_type"), "memory");
    EXPECT_EQ(prop_cells(fdt, mem, "reg"), (std::vector<uint32_t>{0, 0, 0, 256 << 20}));
    EXPECT_LT(fdt_path_offset(fdt, "/memory@100000000"), 0);   // no high RAM at 256 MiB

    EXPECT_GE(fdt_path_offset(fdt, "/cpus/cpu@0"), 0);
    int cpu1 = fdt_path_offset(fdt, "/cpus/cpu@1");
    ASSERT_GE(cpu1, 0);
    EXPECT_EQ(prop_cells(fdt, cpu1, "reg"), std::vector<uint32_t>{1});
    EXPECT_LT(fdt_path_offset(fdt, "/cpus/cpu@2"), 0);

    int ioapic = fdt_path_offset(fdt, "/ioapic@fec00000");
    ASSERT_GE(ioapic, 0);
    EXPECT_NE(fdt_getprop(fdt, ioapic, "interrupt-controller", nullptr), nullptr);
    EXPECT_EQ(fdt_get_phandle(fdt, ioapic), FDT_IOAPIC_PHANDLE);
    EXPECT_EQ(prop_cells(fdt, 0, "interrupt-parent"), std::vector<uint32_t>{FDT_IOAPIC_PHANDLE});

    int serial = fdt_path_offset(fdt, "/serial@3f8");
    ASSERT_GE(serial, 0);
    EXPECT_EQ(prop_string(fdt, serial, "compatible"), "ns16550a");
    EXPECT_EQ(prop_cells(fdt, serial, "interrupts"), (std::vector<uint32_t>{4, 0}));

    int v1 = fdt_path_offset(fdt, "/virtio_mmio@d0002000");
    ASSERT_GE(v1, 0);
    EXPECT_EQ(prop_string(fdt, v1, "compatible"), "virtio,mmio");
    EXPECT_EQ(prop_cells(fdt, v1, "reg"), (std::vector<uint32_t>{0, 0xd0002000, 0, 0x1000}));
    EXPECT_EQ(prop_cells(fdt, v1, "interrupts"), (std::vector<uint32_t>{6, 0}));
    // Both devices, found by compatible.
    int count = 0;
    for (int n = fdt_node_offset_by_compatible(fdt, -1, "virtio,mmio"); n >= 0;
         n = fdt_node_offset_by_compatible(fdt, n, "virtio,mmio"))
        ++count;
    EXPECT_EQ(count, 2);
}

TEST(Fdt, RamAboveTheHoleGetsItsOwnMemoryNode) {
    FdtConfig c = two_cpus_two_devices();
    c.ram_size = 5ULL << 30;
    auto blob = build_fdt(c);
    ASSERT_TRUE(blob.has_value());
    int low = fdt_path_offset(blob->data(), "/memory@0");
    int high = fdt_path_offset(blob->data(), "/memory@100000000");
    ASSERT_GE(low, 0);
    ASSERT_GE(high, 0);
    EXPECT_EQ(prop_cells(blob->data(), low, "reg"), (std::vector<uint32_t>{0, 0, 0, 0xc0000000}));
    EXPECT_EQ(prop_cells(blob->data(), high, "reg"), (std::vector<uint32_t>{1, 0, 0, 0x80000000}));
}

TEST(Fdt, ManyCpusAndDevicesFit) {
    FdtConfig c;
    c.ram_size = 64ULL << 30;
    c.num_vcpus = 255;
    for (uint64_t i = 0; i < 256; ++i) c.virtio_devices.push_back({0xd000'1000 + i * 0x1000, 0x1000, 5});
    auto blob = build_fdt(c);
    ASSERT_TRUE(blob.has_value()) << blob.error().message();
    EXPECT_LE(blob->size(), FDT_MAX_SIZE);
    EXPECT_GE(fdt_path_offset(blob->data(), "/cpus/cpu@fe"), 0);
}

TEST(Fdt, RejectsImpossibleMachines) {
    FdtConfig c = two_cpus_two_devices();
    c.num_vcpus = 0;
    EXPECT_EQ(build_fdt(c).error().code(), ErrorCode::Invalid);
    c = two_cpus_two_devices();
    c.ram_size = 4096;
    EXPECT_FALSE(build_fdt(c).has_value());
    c = two_cpus_two_devices();
    c.virtio_devices[1].size = 0;
    EXPECT_FALSE(build_fdt(c).has_value());
}

TEST(Fdt, DtcCompilesTheBlobBackToSource) {
    if (access("/usr/bin/dtc", X_OK) != 0) GTEST_SKIP() << "needs dtc (device-tree-compiler)";
    auto blob = build_fdt(two_cpus_two_devices());
    ASSERT_TRUE(blob.has_value());
    auto path = std::filesystem::temp_directory_path() / ("minivmm-fdt-" + std::to_string(getpid()) + ".dtb");
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(blob->data()),
                                                static_cast<std::streamsize>(blob->size()));
    auto r = test::run_process({"/usr/bin/dtc", "-I", "dtb", "-O", "dts", path.string()});
    std::filesystem::remove(path);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "") << "dtc warnings";
    for (const char* needle :
         {"compatible = \"minivmm,x86-64\";", "memory@0 {", "reg = <0x00 0x00 0x00 0x10000000>;",
          "cpu@1 {", "ioapic@fec00000 {", "interrupt-controller;", "serial@3f8 {",
          "compatible = \"ns16550a\";", "virtio_mmio@d0001000 {", "compatible = \"virtio,mmio\";",
          "reg = <0x00 0xd0001000 0x00 0x1000>;", "interrupts = <0x05 0x00>;",
          "interrupts = <0x06 0x00>;"})
        EXPECT_NE(r.out.find(needle), std::string::npos) << needle << "\n" << r.out;
}

} // namespace
} // namespace minivmm::firmware
