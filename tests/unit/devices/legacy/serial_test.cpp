// Unit tests for Serial16550 (devices/legacy/serial.hpp): the 16550A register file as the
// guest sees it (PC16550D datasheet, registers at offsets 0-7) and the bounded receive FIFO.
#include "legacy/serial.hpp"

#include "counting_irq_line.hpp"

#include <array>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

// Register offsets and bits, as a guest driver would spell them.
constexpr uint64_t RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6,
                   SCR = 7;
constexpr uint64_t DLL = 0, DLM = 1;   // with LCR.DLAB set
constexpr uint8_t LCR_DLAB = 0x80;
constexpr uint8_t MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08,
                  MCR_LOOP = 0x10;
constexpr uint8_t LSR_DR = 0x01, LSR_OE = 0x02, LSR_THRE = 0x20, LSR_TEMT = 0x40;
constexpr uint8_t IER_RDA = 0x01, IER_THRE = 0x02, IER_RLS = 0x04;
constexpr uint8_t MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80;

// A UART whose output is collected, with one-byte register accessors like a guest's inb/outb.
struct Uart {
    uint8_t in(uint64_t offset) {
        std::array<uint8_t, 1> b{0xee};
        dev.read(offset, b);
        return b[0];
    }
    void out(uint64_t offset, uint8_t value) {
        const std::array<uint8_t, 1> b{value};
        dev.write(offset, b);
    }
    size_t push(std::vector<uint8_t> bytes) { return dev.push_input(bytes); }

    std::vector<uint8_t> output;
    std::shared_ptr<CountingIrqLine> irq = std::make_shared<CountingIrqLine>();
    Serial16550 dev{[this](uint8_t b) { output.push_back(b); }, irq};
};

// Snapshots: the registers, the THR-empty interrupt and the receive FIFO move to a new UART,
// which drives its line at once; values a 16550 cannot hold are refused and change nothing.
TEST(Serial16550, StateMovesToANewUartAndBadStateIsRefused) {
    Uart a;
    a.out(LCR, LCR_DLAB);
    a.out(DLL, 0x01);
    a.out(LCR, 0x03);
    a.out(IER, IER_RDA);
    a.out(SCR, 0x5a);
    a.push({'h', 'i'});
    StateWriter w;
    a.dev.save_state(w);
    const auto bytes = w.take();

    Uart b;
    StateReader in(bytes);
    ASSERT_TRUE(b.dev.restore_state(in, 1));
    EXPECT_TRUE(b.irq->level.load()) << "received data pending with IER.RDA: the line is high";
    EXPECT_EQ(b.in(SCR), 0x5a);
    EXPECT_EQ(b.in(IER), IER_RDA);
    EXPECT_EQ(b.in(RBR_THR), 'h');
    EXPECT_EQ(b.in(RBR_THR), 'i');
    EXPECT_EQ(b.in(LSR) & LSR_DR, 0);
    b.out(LCR, LCR_DLAB);
    EXPECT_EQ(b.in(DLL), 0x01);

    for (size_t at : {size_t{0}, size_t{2}, size_t{7}}) {   // IER, MCR, LSR error bits
        auto bad = bytes;
        bad[at] = 0xff;
        Uart c;
        StateReader r(bad);
        EXPECT_FALSE(c.dev.restore_state(r, 1)) << at;
        EXPECT_EQ(c.in(SCR), 0) << "a refused state changed the UART";
    }
    Uart d;
    StateReader cut(std::span<const uint8_t>(bytes).first(bytes.size() - 1));
    EXPECT_FALSE(d.dev.restore_state(cut, 1));
    StateReader again(bytes);
    EXPECT_FALSE(d.dev.restore_state(again, 2));
}

TEST(Serial16550, TransmitGoesToSinkInOrder) {
    Uart u;
    for (char c : {'o', 'k', '\n'}) u.out(RBR_THR, static_cast<uint8_t>(c));
    EXPECT_EQ(u.output, (std::vector<uint8_t>{'o', 'k', '\n'}));
}

TEST(Serial16550, TransmitUsesLowByteOfWideAccess) {
    Uart u;
    const std::array<uint8_t, 4> word{'A', 'B', 'C', 'D'};
    u.dev.write(RBR_THR, word);
    EXPECT_EQ(u.output, (std::vector<uint8_t>{'A'}));
}

TEST(Serial16550, DlabSelectsDivisorLatch) {
    Uart u;
    u.out(IER, 0x05);
    u.out(LCR, LCR_DLAB | 0x03);
    EXPECT_EQ(u.in(DLL), 0x0c);   // reset divisor: 9600 baud
    EXPECT_EQ(u.in(DLM), 0x00);
    u.out(DLL, 0x01);             // 115200 baud
    u.out(DLM, 0x02);
    EXPECT_EQ(u.in(DLL), 0x01);
    EXPECT_EQ(u.in(DLM), 0x02);
    EXPECT_TRUE(u.output.empty()) << "a DLL write must not transmit";

    u.out(LCR, 0x03);
    EXPECT_EQ(u.in(LCR), 0x03);
    EXPECT_EQ(u.in(IER), 0x05) << "DLM write must not change IER";
    u.out(RBR_THR, 'x');
    EXPECT_EQ(u.output, (std::vector<uint8_t>{'x'}));
    u.out(LCR, LCR_DLAB);
    EXPECT_EQ(u.in(DLL), 0x01) << "THR write must not change DLL";
}

TEST(Serial16550, DlabReadDoesNotConsumeInput) {
    Uart u;
    ASSERT_EQ(u.push({'q'}), 1u);
    u.out(LCR, LCR_DLAB);
    EXPECT_EQ(u.in(RBR_THR), 0x0c);
    u.out(LCR, 0);
    EXPECT_EQ(u.in(RBR_THR), 'q');
}

TEST(Serial16550, LsrTransmitterAlwaysEmpty) {
    Uart u;
    EXPECT_EQ(u.in(LSR), LSR_THRE | LSR_TEMT);
    u.out(RBR_THR, 'a');
    EXPECT_EQ(u.in(LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
}

TEST(Serial16550, LsrDataReadyTracksReceiveFifo) {
    Uart u;
    EXPECT_EQ(u.in(LSR) & LSR_DR, 0);
    ASSERT_EQ(u.push({'h', 'i'}), 2u);
    EXPECT_EQ(u.in(LSR) & LSR_DR, LSR_DR);
    EXPECT_EQ(u.in(RBR_THR), 'h');
    EXPECT_EQ(u.in(LSR) & LSR_DR, LSR_DR);
    EXPECT_EQ(u.in(RBR_THR), 'i');
    EXPECT_EQ(u.in(LSR) & LSR_DR, 0);
}

TEST(Serial16550, EmptyReceiveBufferReadsZero) {
    Uart u;
    EXPECT_EQ(u.in(RBR_THR), 0);
    EXPECT_EQ(u.in(LSR) & LSR_DR, 0);
}

TEST(Serial16550, LsrAndMsrAreReadOnly) {
    Uart u;
    u.out(LSR, 0x00);
    EXPECT_EQ(u.in(LSR), LSR_THRE | LSR_TEMT);
    const uint8_t msr = u.in(MSR);
    u.out(MSR, 0x00);
    EXPECT_EQ(u.in(MSR), msr);
}

TEST(Serial16550, LoopbackReturnsTransmittedBytesAsInput) {
    Uart u;
    u.out(MCR, MCR_LOOP);
    EXPECT_EQ(u.in(MCR), MCR_LOOP);
    u.out(RBR_THR, 0x5a);
    u.out(RBR_THR, 0xa5);
    EXPECT_TRUE(u.output.empty()) << "loopback must not reach the host";
    EXPECT_EQ(u.in(LSR) & LSR_DR, LSR_DR);
    EXPECT_EQ(u.in(RBR_THR), 0x5a);
    EXPECT_EQ(u.in(RBR_THR), 0xa5);
    EXPECT_EQ(u.in(LSR) & LSR_DR, 0);
    u.out(MCR, 0);
    u.out(RBR_THR, 'z');
    EXPECT_EQ(u.output, (std::vector<uint8_t>{'z'}));
}

TEST(Serial16550, MsrReportsCarrierOutsideLoopback) {
    Uart u;
    EXPECT_EQ(u.in(MSR) & 0xf0, MSR_DCD | MSR_DSR | MSR_CTS);
}

TEST(Serial16550, LoopbackReflectsModemControlInMsr) {
    Uart u;
    // Datasheet: in loopback, DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. Linux's 8250 probe
    // writes LOOP|OUT2|RTS and expects DCD|CTS (0x90).
    u.out(MCR, MCR_LOOP | MCR_OUT2 | MCR_RTS);
    EXPECT_EQ(u.in(MSR) & 0xf0, MSR_DCD | MSR_CTS);
    u.out(MCR, MCR_LOOP | MCR_DTR | MCR_OUT1);
    EXPECT_EQ(u.in(MSR) & 0xf0, MSR_DSR | MSR_RI);
    u.out(MCR, MCR_LOOP);
    EXPECT_EQ(u.in(MSR) & 0xf0, 0);
}

TEST(Serial16550, ScratchRegisterHoldsValue) {
    Uart u;
    EXPECT_EQ(u.in(SCR), 0);
    for (uint8_t v : {uint8_t{0x5a}, uint8_t{0xff}, uint8_t{0x00}, uint8_t{0xa5}}) {
        u.out(SCR, v);
        EXPECT_EQ(u.in(SCR), v);
    }
    EXPECT_TRUE(u.output.empty());
}

TEST(Serial16550, RegisterWritesMaskReservedBits) {
    Uart u;
    u.out(IER, 0xff);
    EXPECT_EQ(u.in(IER), 0x0f);
    u.out(MCR, 0xff);
    EXPECT_EQ(u.in(MCR), 0x1f);
}

TEST(Serial16550, FifoControlResetClearsReceiveFifo) {
    Uart u;
    ASSERT_EQ(u.push({'a', 'b', 'c'}), 3u);
    u.out(IIR_FCR, 0x01);   // enable FIFOs only: input survives
    EXPECT_EQ(u.in(LSR) & LSR_DR, LSR_DR);
    u.out(IIR_FCR, 0x03);   // enable + clear receive FIFO
    EXPECT_EQ(u.in(LSR) & LSR_DR, 0);
    EXPECT_EQ(u.in(RBR_THR), 0);
    ASSERT_EQ(u.push({'d'}), 1u);
    EXPECT_EQ(u.in(RBR_THR), 'd');
}

TEST(Serial16550, LoopbackIntoFullFifoSetsOverrun) {
    Uart u;
    std::vector<uint8_t> fill(Serial16550::RX_FIFO_LIMIT, 'f');
    ASSERT_EQ(u.dev.push_input(fill), Serial16550::RX_FIFO_LIMIT);
    u.out(MCR, MCR_LOOP);
    EXPECT_EQ(u.in(LSR) & LSR_OE, 0);
    u.out(RBR_THR, 'x');
    EXPECT_EQ(u.in(LSR) & LSR_OE, LSR_OE);
    EXPECT_EQ(u.in(LSR) & LSR_OE, 0) << "OE clears when LSR is read";
    EXPECT_EQ(u.dev.rx_level(), Serial16550::RX_FIFO_LIMIT);
}

TEST(Serial16550, ReceiveFifoIsBounded) {
    Uart u;
    std::vector<uint8_t> flood(Serial16550::RX_FIFO_LIMIT + 100);
    for (size_t i = 0; i < flood.size(); ++i) flood[i] = static_cast<uint8_t>(i);
    EXPECT_EQ(u.dev.push_input(flood), Serial16550::RX_FIFO_LIMIT);
    EXPECT_EQ(u.push({1}), 0u);

    // Loopback cannot grow a full FIFO either.
    u.out(MCR, MCR_LOOP);
    u.out(RBR_THR, 0xee);
    u.out(MCR, 0);

    EXPECT_EQ(u.in(RBR_THR), 0);   // first byte, in order
    EXPECT_EQ(u.push({0x77}), 1u);  // one slot freed
    EXPECT_EQ(u.push({0x78}), 0u);
    for (size_t i = 1; i < Serial16550::RX_FIFO_LIMIT; ++i)
        ASSERT_EQ(u.in(RBR_THR), static_cast<uint8_t>(i)) << "byte " << i;
    EXPECT_EQ(u.in(RBR_THR), 0x77);
    EXPECT_EQ(u.in(LSR) & LSR_DR, 0) << "loopback byte must have been dropped";
}

TEST(Serial16550, PushInputAcceptsEmptySpan) {
    Uart u;
    EXPECT_EQ(u.dev.push_input({}), 0u);
    EXPECT_EQ(u.in(LSR) & LSR_DR, 0);
}

TEST(Serial16550, IirReportsNoInterruptByDefault) {
    Uart u;
    EXPECT_EQ(u.in(IIR_FCR), 0x01);
    ASSERT_EQ(u.push({'x'}), 1u);
    EXPECT_EQ(u.in(IIR_FCR), 0x01) << "receive interrupt not enabled";
}

TEST(Serial16550, IirReportsFifosEnabled) {
    Uart u;
    u.out(IIR_FCR, 0x01);
    EXPECT_EQ(u.in(IIR_FCR), 0xc1);
    u.out(IIR_FCR, 0x00);
    EXPECT_EQ(u.in(IIR_FCR), 0x01);
}

TEST(Serial16550, IirReportsTransmitterEmpty) {
    Uart u;
    u.out(IIR_FCR, 0x01);
    u.out(IER, IER_THRE);
    EXPECT_EQ(u.in(IIR_FCR), 0xc2);
}

TEST(Serial16550, IirReceivedDataTakesPriority) {
    Uart u;
    u.out(IER, IER_RDA | IER_THRE);
    ASSERT_EQ(u.push({'x'}), 1u);
    EXPECT_EQ(u.in(IIR_FCR), 0x04);
    EXPECT_EQ(u.in(IIR_FCR), 0x04) << "an IIR read does not acknowledge received data";
    EXPECT_EQ(u.in(RBR_THR), 'x');
    EXPECT_EQ(u.in(IIR_FCR), 0x02) << "THR empty was still pending under received data";
}

TEST(Serial16550, WideReadZeroFillsUpperBytes) {
    Uart u;
    u.out(SCR, 0x99);
    std::array<uint8_t, 4> word{0xee, 0xee, 0xee, 0xee};
    u.dev.read(SCR, word);
    EXPECT_EQ(word, (std::array<uint8_t, 4>{0x99, 0, 0, 0}));
}

// --- Interrupts: the line follows IIR (level), one set_level per transition. ---

TEST(Serial16550, IrqLowAfterReset) {
    Uart u;
    EXPECT_FALSE(u.irq->level);
    EXPECT_EQ(u.irq->rising_edges, 0u);
    ASSERT_EQ(u.push({'x'}), 1u);
    u.out(RBR_THR, 'y');
    EXPECT_FALSE(u.irq->level) << "nothing is enabled in IER";
    EXPECT_EQ(u.irq->rising_edges, 0u);
}

TEST(Serial16550, ReceivedDataRaisesIrqUntilFifoDrained) {
    Uart u;
    u.out(IER, IER_RDA);
    EXPECT_FALSE(u.irq->level);
    ASSERT_EQ(u.push({'a', 'b'}), 2u);
    EXPECT_TRUE(u.irq->level);
    EXPECT_TRUE(u.dev.irq_level());
    EXPECT_EQ(u.irq->rising_edges, 1u);
    EXPECT_EQ(u.in(RBR_THR), 'a');
    EXPECT_TRUE(u.irq->level) << "one byte is still waiting";
    EXPECT_EQ(u.in(RBR_THR), 'b');
    EXPECT_FALSE(u.irq->level);
    EXPECT_EQ(u.irq->rising_edges, 1u);
}

TEST(Serial16550, EnablingReceiveInterruptWithDataWaitingRaisesIrq) {
    Uart u;
    ASSERT_EQ(u.push({'a'}), 1u);
    EXPECT_FALSE(u.irq->level);
    u.out(IER, IER_RDA);
    EXPECT_TRUE(u.irq->level);
    u.out(IER, 0);
    EXPECT_FALSE(u.irq->level) << "disabling the source lowers the line";
}

TEST(Serial16550, FifoClearDropsReceiveIrq) {
    Uart u;
    u.out(IER, IER_RDA);
    ASSERT_EQ(u.push({'a'}), 1u);
    ASSERT_TRUE(u.irq->level);
    u.out(IIR_FCR, 0x03);
    EXPECT_FALSE(u.irq->level);
}

TEST(Serial16550, EnablingThrEmptyRaisesIrqAndIirReadAcknowledges) {
    Uart u;
    u.out(IER, IER_THRE);
    EXPECT_TRUE(u.irq->level) << "THR is empty, so enabling its interrupt raises it";
    EXPECT_EQ(u.in(IIR_FCR), 0x02);
    EXPECT_FALSE(u.irq->level) << "reading IIR while it says THRE acknowledges it";
    EXPECT_EQ(u.in(IIR_FCR), 0x01);
}

TEST(Serial16550, ThrEmptyReassertsWhenReenabled) {
    // Linux's 8250 startup test (UART_BUG_THRE): IER=THRI, read IIR, IER=0, IER=THRI, read IIR.
    Uart u;
    u.out(IER, IER_THRE);
    EXPECT_EQ(u.in(IIR_FCR), 0x02);
    u.out(IER, 0);
    u.out(IER, IER_THRE);
    EXPECT_EQ(u.in(IIR_FCR), 0x02);
    EXPECT_EQ(u.irq->rising_edges, 2u);
}

TEST(Serial16550, EachTransmittedByteGivesAFreshEdge) {
    Uart u;
    u.out(IER, IER_THRE);
    ASSERT_EQ(u.in(IIR_FCR), 0x02);
    for (char c : {'a', 'b', 'c'}) {
        u.out(RBR_THR, static_cast<uint8_t>(c));
        EXPECT_TRUE(u.irq->level);
    }
    EXPECT_EQ(u.irq->rising_edges, 4u) << "enable + one per byte (the line drops during the write)";
    EXPECT_EQ(u.output, (std::vector<uint8_t>{'a', 'b', 'c'}));
}

TEST(Serial16550, ThrWriteWithoutThrInterruptKeepsLineLow) {
    Uart u;
    u.out(IER, IER_RDA);
    u.out(RBR_THR, 'a');
    EXPECT_FALSE(u.irq->level);
    EXPECT_EQ(u.irq->rising_edges, 0u);
}

TEST(Serial16550, ReceivedDataOutranksThrEmptyOnTheLine) {
    Uart u;
    u.out(IER, IER_RDA | IER_THRE);
    ASSERT_EQ(u.in(IIR_FCR), 0x02);   // acknowledge THRE
    ASSERT_FALSE(u.irq->level);
    ASSERT_EQ(u.push({'x'}), 1u);
    EXPECT_TRUE(u.irq->level);
    EXPECT_EQ(u.in(IIR_FCR), 0x04);
    EXPECT_EQ(u.in(RBR_THR), 'x');
    EXPECT_FALSE(u.irq->level);
}

TEST(Serial16550, OverrunRaisesLineStatusInterrupt) {
    Uart u;
    std::vector<uint8_t> fill(Serial16550::RX_FIFO_LIMIT, 'f');
    ASSERT_EQ(u.dev.push_input(fill), Serial16550::RX_FIFO_LIMIT);
    u.out(IER, IER_RLS);
    u.out(MCR, MCR_LOOP);
    EXPECT_FALSE(u.irq->level);
    u.out(RBR_THR, 'x');
    EXPECT_TRUE(u.irq->level);
    EXPECT_EQ(u.in(IIR_FCR), 0x06);
    EXPECT_EQ(u.in(LSR) & LSR_OE, LSR_OE);
    EXPECT_FALSE(u.irq->level) << "reading LSR clears the overrun";
}

TEST(Serial16550, LoopbackByteRaisesReceiveIrq) {
    Uart u;
    u.out(IER, IER_RDA);
    u.out(MCR, MCR_LOOP);
    u.out(RBR_THR, 0x42);
    EXPECT_TRUE(u.irq->level);
    EXPECT_EQ(u.in(RBR_THR), 0x42);
    EXPECT_FALSE(u.irq->level);
}

TEST(Serial16550, DlabAccessesDoNotTouchInterrupts) {
    Uart u;
    u.out(IER, IER_RDA);
    ASSERT_EQ(u.push({'x'}), 1u);
    u.out(LCR, LCR_DLAB);
    u.out(IER, 0);   // DLM
    EXPECT_TRUE(u.irq->level);
    u.in(RBR_THR);   // DLL
    EXPECT_TRUE(u.irq->level);
    u.out(LCR, 0);
    EXPECT_EQ(u.in(IER), IER_RDA);
}

// --- Back-pressure: the host learns when it may push again. ---

TEST(Serial16550, InputSpaceCountsFreeBytes) {
    Uart u;
    EXPECT_EQ(u.dev.input_space(), Serial16550::RX_FIFO_LIMIT);
    ASSERT_EQ(u.push({1, 2, 3}), 3u);
    EXPECT_EQ(u.dev.input_space(), Serial16550::RX_FIFO_LIMIT - 3);
    EXPECT_EQ(u.dev.rx_level(), 3u);
}

TEST(Serial16550, SpaceCallbackRunsOnceWhenDrainedToResumeLevel) {
    Uart u;
    int calls = 0;
    u.dev.set_space_callback([&] { ++calls; });
    std::vector<uint8_t> fill(Serial16550::RX_FIFO_LIMIT, 'f');
    ASSERT_EQ(u.dev.push_input(fill), Serial16550::RX_FIFO_LIMIT);
    ASSERT_EQ(u.dev.input_space(), 0u);   // arms the callback
    const size_t to_drain = Serial16550::RX_FIFO_LIMIT - Serial16550::RX_RESUME_LEVEL;
    for (size_t i = 0; i + 1 < to_drain; ++i) u.in(RBR_THR);
    EXPECT_EQ(calls, 0) << "not yet down to the resume level";
    u.in(RBR_THR);
    EXPECT_EQ(calls, 1);
    while (u.dev.rx_level() > 0) u.in(RBR_THR);
    EXPECT_EQ(calls, 1) << "armed once, called once";
}

TEST(Serial16550, SpaceCallbackNotArmedWhileSpaceRemains) {
    Uart u;
    int calls = 0;
    u.dev.set_space_callback([&] { ++calls; });
    std::vector<uint8_t> fill(Serial16550::RX_FIFO_LIMIT, 'f');
    ASSERT_EQ(u.dev.push_input(fill), Serial16550::RX_FIFO_LIMIT);
    while (u.dev.rx_level() > 0) u.in(RBR_THR);
    EXPECT_EQ(calls, 0) << "nobody asked (input_space() never returned 0)";
}

TEST(Serial16550, FifoClearWakesAWaitingHost) {
    Uart u;
    int calls = 0;
    u.dev.set_space_callback([&] { ++calls; });
    std::vector<uint8_t> fill(Serial16550::RX_FIFO_LIMIT, 'f');
    ASSERT_EQ(u.dev.push_input(fill), Serial16550::RX_FIFO_LIMIT);
    ASSERT_EQ(u.dev.input_space(), 0u);
    u.out(IIR_FCR, 0x03);
    EXPECT_EQ(calls, 1);
}

} // namespace
} // namespace minivmm
