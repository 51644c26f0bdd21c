// The snapshot state file: a full state round-trips; truncation at every byte, a flipped bit
// anywhere, a wrong magic or version, absurd counts and out-of-range values are each refused
// with an error naming the problem.
#include "snapshot/snapshot_codec.hpp"

#include <cstring>

#include <gtest/gtest.h>

#include "base/state_writer.hpp"

namespace minivmm {
namespace {

SnapshotState sample() {
    SnapshotState s;
    s.machine.mem_size = 64ULL << 20;
    s.machine.cpus = 2;
    s.machine.irqchip = true;
    s.machine.kernel = "/boot/vmlinuz";
    s.machine.devices = {{"disk", "vm.img,ro"}, {"rng", ""}};
    s.cpuid.resize(3);
    s.cpuid[2].function = 0x80000001;
    s.cpuid[2].edx = 0x2c100800;
    for (uint32_t i = 0; i < 2; ++i) {
        VcpuRecord v;
        v.index = i;
        v.regs.rip = 0x1000 + i;
        v.sregs.cr3 = 0x9000;
        v.fpu.fcw = 0x37f;
        v.xsave.emplace();
        v.xsave->region[0] = 7;
        v.xcrs.emplace();
        v.xcrs->nr_xcrs = 1;
        v.msrs = {{0x10, 0, 12345}, {0xc0000080, 0, 0x500}};
        v.lapic.emplace();
        v.lapic->regs[0x20] = 1;
        v.events.nmi.masked = 1;
        v.debugregs.emplace();
        v.debugregs->dr7 = 0x400;
        s.vcpus.push_back(v);
    }
    s.irqchip.emplace();
    s.irqchip->pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
    s.irqchip->pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
    s.irqchip->ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
    s.irqchip->pit.channels[0].mode = 2;
    s.clock.emplace();
    s.clock->clock = 987654321;
    s.devices = {{"virtio-blk0", 1, {1, 2, 3, 4}}, {"i8042", 1, {}}};
    return s;
}

std::string error_of(std::span<const uint8_t> file) {
    auto r = decode_snapshot(file);
    EXPECT_FALSE(r.has_value());
    return r ? std::string() : r.error().message();
}

TEST(SnapshotCodec, RoundTripsEveryField) {
    const SnapshotState s = sample();
    auto file = encode_snapshot(s);
    auto back = decode_snapshot(file);
    ASSERT_TRUE(back) << back.error().message();
    EXPECT_EQ(back->machine.mem_size, s.machine.mem_size);
    EXPECT_EQ(back->machine.kernel, "/boot/vmlinuz");
    ASSERT_EQ(back->cpuid.size(), 3u);
    EXPECT_EQ(back->cpuid[2].edx, 0x2c100800u);
    ASSERT_EQ(back->machine.devices.size(), 2u);
    EXPECT_EQ(back->machine.devices[0].text, "vm.img,ro");
    ASSERT_EQ(back->vcpus.size(), 2u);
    EXPECT_EQ(back->vcpus[1].regs.rip, 0x1001u);
    EXPECT_EQ(back->vcpus[1].xsave->region[0], 7u);
    ASSERT_EQ(back->vcpus[0].msrs.size(), 2u);
    EXPECT_EQ(back->vcpus[0].msrs[1].data, 0x500u);
    EXPECT_EQ(back->vcpus[0].lapic->regs[0x20], 1);
    EXPECT_EQ(back->vcpus[0].debugregs->dr7, 0x400u);
    EXPECT_EQ(back->irqchip->pit.channels[0].mode, 2u);
    EXPECT_EQ(back->clock->clock, 987654321u);
    ASSERT_EQ(back->devices.size(), 2u);
    EXPECT_EQ(back->devices[0].bytes, (std::vector<uint8_t>{1, 2, 3, 4}));
    EXPECT_EQ(encode_snapshot(*back), file);   // one spelling per state
}

TEST(SnapshotCodec, RefusesTruncationAtEveryByte) {
    const auto file = encode_snapshot(sample());
    for (size_t n = 0; n < file.size(); ++n)
        EXPECT_FALSE(decode_snapshot(std::span(file).first(n))) << "cut at " << n;
    // Past the header's check: the payload parser alone, cut everywhere.
    const auto payload = std::span<const uint8_t>(file).subspan(SNAPSHOT_HEADER_SIZE);
    for (size_t n = 0; n < payload.size(); ++n)
        EXPECT_FALSE(decode_snapshot_payload(payload.first(n))) << "payload cut at " << n;
}

TEST(SnapshotCodec, RefusesAFlippedBitAnywhere) {
    const auto file = encode_snapshot(sample());
    for (size_t i = 0; i < file.size(); i += 7) {
        auto bad = file;
        bad[i] ^= 0x10;
        EXPECT_FALSE(decode_snapshot(bad)) << "byte " << i;
    }
    auto bad = file;
    bad.back() ^= 1;
    EXPECT_NE(error_of(bad).find("CRC"), std::string::npos);
    bad = file;
    bad[12] ^= 1;   // the CRC itself
    EXPECT_NE(error_of(bad).find("CRC"), std::string::npos);
}

TEST(SnapshotCodec, RefusesWrongMagicAndVersion) {
    auto file = encode_snapshot(sample());
    auto bad = file;
    bad[0] = 'X';
    EXPECT_NE(error_of(bad).find("magic"), std::string::npos);
    bad = file;
    bad[8] = 2;
    EXPECT_NE(error_of(bad).find("format version 2"), std::string::npos);
    file.push_back(0);
    EXPECT_NE(error_of(file).find("truncated"), std::string::npos);
}

// A payload built by hand: the MACH section with the given counts.
std::vector<uint8_t> machine_payload(uint64_t mem, uint32_t cpus, uint32_t devices) {
    StateWriter w;
    w.begin_section(state_tag("MACH"), 1);
    w.u64(mem);
    w.u32(cpus);
    w.u8(0);
    const std::string demo = "hello";
    w.blob({reinterpret_cast<const uint8_t*>(demo.data()), demo.size()});
    w.blob({});
    w.u32(devices);
    w.end_section();
    return w.take();
}

TEST(SnapshotCodec, RefusesAbsurdCountsAndSizes) {
    auto error = [](const std::vector<uint8_t>& payload) {
        auto r = decode_snapshot_payload(payload);
        return r ? std::string() : r.error().message();
    };
    EXPECT_NE(error(machine_payload(64 << 20, 0xffffffff, 0)).find("vCPU count"), std::string::npos);
    EXPECT_NE(error(machine_payload(64 << 20, 0, 0)).find("vCPU count"), std::string::npos);
    EXPECT_NE(error(machine_payload(1ULL << 62, 1, 0)).find("memory size"), std::string::npos);
    EXPECT_NE(error(machine_payload((64 << 20) + 1, 1, 0)).find("memory size"), std::string::npos);
    EXPECT_NE(error(machine_payload(64 << 20, 1, 0xffffffff)).find("device count"), std::string::npos);
    // A count that fits but bytes that do not: the section ends early.
    EXPECT_FALSE(decode_snapshot_payload(machine_payload(64 << 20, 1, 3)));
}

TEST(SnapshotCodec, RefusesOutOfRangeValuesInAValidFile) {
    auto refused = [](SnapshotState s, const char* what) {
        auto r = decode_snapshot(encode_snapshot(s));
        ASSERT_FALSE(r) << what;
        EXPECT_NE(r.error().message().find(what), std::string::npos) << r.error().message();
    };
    SnapshotState s = sample();
    s.vcpus[1].mp_state = 77;
    refused(s, "MP state");
    s = sample();
    s.vcpus[0].msrs.resize(SNAPSHOT_MAX_MSRS + 1);
    refused(s, "MSR count");
    s = sample();
    s.vcpus[0].events.exception.nr = 200;
    refused(s, "pending events");
    s = sample();
    s.vcpus[1].index = 0;
    refused(s, "index");
    s = sample();
    s.vcpus.pop_back();   // fewer VCPU sections than the machine's count
    refused(s, "expected a vCPU section");
    s = sample();
    s.irqchip->ioapic.chip_id = 0;
    refused(s, "chip id");
    s = sample();
    s.irqchip->pit.channels[2].mode = 9;
    refused(s, "PIT channel");
    s = sample();
    s.devices[1].name = "virtio-blk0";
    refused(s, "repeated");
    s = sample();
    s.machine.demo = "hello";   // both a demo and a kernel
    refused(s, "both");
    s = sample();
    s.machine.devices[0].text = std::string("a\0b", 3);
    refused(s, "device option");
    s = sample();
    s.cpuid.resize(SNAPSHOT_MAX_CPUID + 1);
    refused(s, "CPUID entry count");
    s = sample();
    s.cpuid.clear();
    refused(s, "CPUID entry count");
}

} // namespace
} // namespace minivmm
