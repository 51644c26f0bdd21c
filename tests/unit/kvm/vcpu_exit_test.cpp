// decode_exit on hand-filled kvm_run pages: no /dev/kvm needed.
#include "kvm/vcpu_exit.hpp"

#include <gtest/gtest.h>
#include <vector>

namespace minivmm {
namespace {

struct RunPage {
    // kvm_run followed by room for string-I/O data, as in the real 3-page mapping.
    std::vector<uint64_t> storage = std::vector<uint64_t>(4096 / 8 * 3, 0);
    kvm_run& run() { return *reinterpret_cast<kvm_run*>(storage.data()); }
};

TEST(VcpuExit, DecodesPortOut) {
    RunPage page;
    kvm_run& run = page.run();
    run.exit_reason = KVM_EXIT_IO;
    run.io.direction = KVM_EXIT_IO_OUT;
    run.io.port = 0x3f8;
    run.io.size = 1;
    run.io.count = 1;
    run.io.data_offset = 4096;
    reinterpret_cast<uint8_t*>(&run)[4096] = 'A';
    VcpuExit e = decode_exit(run);
    EXPECT_EQ(e.reason, ExitReason::Io);
    EXPECT_TRUE(e.is_write);
    EXPECT_EQ(e.address, 0x3f8u);
    EXPECT_EQ(e.size, 1u);
    EXPECT_EQ(e.count, 1u);
    EXPECT_EQ(e.data[0], 'A');
}

TEST(VcpuExit, DecodesStringInCount) {
    RunPage page;
    kvm_run& run = page.run();
    run.exit_reason = KVM_EXIT_IO;
    run.io.direction = KVM_EXIT_IO_IN;
    run.io.port = 0x60;
    run.io.size = 2;
    run.io.count = 7;
    run.io.data_offset = 4096;
    VcpuExit e = decode_exit(run);
    EXPECT_FALSE(e.is_write);
    EXPECT_EQ(e.count, 7u);
    EXPECT_EQ(e.data, reinterpret_cast<uint8_t*>(&run) + 4096);
}

TEST(VcpuExit, DecodesMmioWrite) {
    RunPage page;
    kvm_run& run = page.run();
    run.exit_reason = KVM_EXIT_MMIO;
    run.mmio.phys_addr = 0xd0000004;
    run.mmio.len = 4;
    run.mmio.is_write = 1;
    run.mmio.data[0] = 0x42;
    VcpuExit e = decode_exit(run);
    EXPECT_EQ(e.reason, ExitReason::Mmio);
    EXPECT_TRUE(e.is_write);
    EXPECT_EQ(e.address, 0xd0000004u);
    EXPECT_EQ(e.size, 4u);
    EXPECT_EQ(e.data[0], 0x42);
}

TEST(VcpuExit, DecodesEmulationFailureWithInstructionBytes) {
    RunPage page;
    kvm_run& run = page.run();
    run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
    run.emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
    run.emulation_failure.ndata = 4;
    run.emulation_failure.flags = KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
    run.emulation_failure.insn_size = 3;
    run.emulation_failure.insn_bytes[0] = 0x0f;
    run.emulation_failure.insn_bytes[1] = 0x01;
    run.emulation_failure.insn_bytes[2] = 0xca;   // clac
    VcpuExit e = decode_exit(run);
    EXPECT_EQ(e.reason, ExitReason::InternalError);
    EXPECT_EQ(e.suberror, static_cast<uint32_t>(KVM_INTERNAL_ERROR_EMULATION));
    ASSERT_EQ(e.insn_size, 3);
    EXPECT_EQ(e.insn_bytes[2], 0xca);
}

TEST(VcpuExit, IgnoresInstructionBytesWithoutFlag) {
    RunPage page;
    kvm_run& run = page.run();
    run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
    run.emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
    run.emulation_failure.ndata = 4;
    run.emulation_failure.flags = 0;
    run.emulation_failure.insn_size = 3;
    EXPECT_EQ(decode_exit(run).insn_size, 0);
}

TEST(VcpuExit, ClampsOversizedInternalData) {
    RunPage page;
    kvm_run& run = page.run();
    run.exit_reason = KVM_EXIT_INTERNAL_ERROR;
    run.internal.suberror = 3;
    run.internal.ndata = 1000;   // never trusted beyond the array
    EXPECT_EQ(decode_exit(run).internal_data.size(), 16u);
}

TEST(VcpuExit, DecodesShutdownHltFailEntryAndOther) {
    RunPage page;
    kvm_run& run = page.run();
    run.exit_reason = KVM_EXIT_SHUTDOWN;
    EXPECT_EQ(decode_exit(run).reason, ExitReason::Shutdown);
    run.exit_reason = KVM_EXIT_HLT;
    EXPECT_EQ(decode_exit(run).reason, ExitReason::Hlt);
    run.exit_reason = KVM_EXIT_FAIL_ENTRY;
    run.fail_entry.hardware_entry_failure_reason = 0x21;
    EXPECT_EQ(decode_exit(run).reason, ExitReason::FailEntry);
    EXPECT_EQ(decode_exit(run).fail_reason, 0x21u);
    run.exit_reason = KVM_EXIT_WATCHDOG;
    EXPECT_EQ(decode_exit(run).reason, ExitReason::Other);
}

TEST(VcpuExit, NamesEveryReason) {
    EXPECT_EQ(exit_reason_name(KVM_EXIT_IO), "IO");
    EXPECT_EQ(exit_reason_name(KVM_EXIT_MMIO), "MMIO");
    EXPECT_EQ(exit_reason_name(KVM_EXIT_SHUTDOWN), "SHUTDOWN");
    EXPECT_EQ(exit_reason_name(KVM_EXIT_INTERNAL_ERROR), "INTERNAL_ERROR");
    EXPECT_EQ(exit_reason_name(KVM_EXIT_X86_BUS_LOCK), "X86_BUS_LOCK");
    EXPECT_EQ(exit_reason_name(9999), "UNKNOWN");
}

} // namespace
} // namespace minivmm
