// Tests of parse_block_request, the pure virtio-blk request parser.
#include "block/block_request.hpp"

#include <gtest/gtest.h>

#include "blk_harness.hpp"

namespace minivmm::block {
namespace {

using test::DriverBuffer;
using virtio::Direction;

constexpr DiskInfo DISK{1 << 20, false, 1024};
constexpr uint64_t CAPACITY = DISK.size / SECTOR_SIZE;

struct ParseTest : ::testing::Test {
    test::BlkHarness h;

    Result<BlockRequest> parse(std::initializer_list<DriverBuffer> bufs, DiskInfo disk = DISK) {
        uint16_t head = h.drv.add_chain(bufs);
        auto chain = virtio::DescriptorChain::parse(h.mem, {h.drv.desc_table(), h.drv.size()},
                                                    head, virtio::Indirect::Refused);
        if (!chain) throw std::runtime_error(chain.error().message());
        virtio::ChainReader reader(h.mem, *chain);
        return parse_block_request(reader, chain->writable_len(), disk);
    }
    DriverBuffer header(uint32_t type, uint64_t sector, Direction dir = Direction::Readable) {
        virtio_blk_outhdr hdr{type, 0, sector};
        GuestAddress a = h.drv.alloc(sizeof hdr);
        h.drv.fill(a, {reinterpret_cast<const uint8_t*>(&hdr), sizeof hdr});
        return {a, sizeof hdr, dir};
    }
    DriverBuffer buf(uint32_t len, Direction dir) { return {h.drv.alloc(len), len, dir}; }
    DriverBuffer bytes(std::vector<uint8_t> v) {
        GuestAddress a = h.drv.alloc(static_cast<uint32_t>(v.size()));
        h.drv.fill(a, v);
        return {a, static_cast<uint32_t>(v.size()), Direction::Readable};
    }
    DriverBuffer status() { return buf(1, Direction::Writable); }
};

TEST_F(ParseTest, ReadsInAndOutRequests) {
    auto in = parse({header(VIRTIO_BLK_T_IN, 3), buf(1024, Direction::Writable), status()});
    ASSERT_TRUE(in);
    EXPECT_EQ(in->op, BlockOp::Read);
    EXPECT_EQ(in->status, BlockStatus::Ok);
    EXPECT_EQ(in->offset, 3 * 512u);
    EXPECT_EQ(in->len, 1024u);
    auto out = parse({header(VIRTIO_BLK_T_OUT, 0), buf(512, Direction::Readable),
                      buf(512, Direction::Readable), status()});
    ASSERT_TRUE(out);
    EXPECT_EQ(out->op, BlockOp::Write);
    EXPECT_EQ(out->len, 1024u);
    EXPECT_EQ(out->data_in, 0u);
}

TEST_F(ParseTest, RefusesMissingOrShortOrWriteOnlyHeader) {
    EXPECT_FALSE(parse({header(VIRTIO_BLK_T_IN, 0, Direction::Writable), status()}));
    EXPECT_FALSE(parse({buf(15, Direction::Readable), status()}));
}

// Modern virtio (§2.6.4) lets the driver split the header; the reader streams across it.
TEST_F(ParseTest, AcceptsHeaderSplitAcrossDescriptors) {
    auto r = parse({bytes({VIRTIO_BLK_T_IN, 0, 0, 0, 0, 0}), bytes({0, 0, 2, 0, 0, 0, 0, 0, 0, 0}),
                    buf(512, Direction::Writable), status()});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->op, BlockOp::Read);
    EXPECT_EQ(r->offset, 2 * 512u);
}

TEST_F(ParseTest, RefusesChainWithoutStatusByte) {
    EXPECT_FALSE(parse({header(VIRTIO_BLK_T_IN, 0)}));
    EXPECT_FALSE(parse({header(VIRTIO_BLK_T_OUT, 0), buf(512, Direction::Readable)}));
}

TEST_F(ParseTest, DataNotMultipleOf512IsIoErr) {
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_IN, 0), buf(511, Direction::Writable), status()})->status,
              BlockStatus::IoErr);
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_OUT, 0), buf(513, Direction::Readable), status()})->status,
              BlockStatus::IoErr);
}

TEST_F(ParseTest, RangesPastTheEndAreIoErr) {
    for (uint64_t sector : std::initializer_list<uint64_t>{CAPACITY, CAPACITY - 1, ~0ULL, 1ULL << 55, (~0ULL >> 9) + 1}) {
        auto r = parse({header(VIRTIO_BLK_T_IN, sector), buf(1024, Direction::Writable), status()});
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, BlockStatus::IoErr) << sector;
    }
    auto last = parse({header(VIRTIO_BLK_T_IN, CAPACITY - 2), buf(1024, Direction::Writable), status()});
    EXPECT_EQ(last->status, BlockStatus::Ok);
}

TEST_F(ParseTest, DataInTheWrongDirectionIsIoErr) {
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_IN, 0), buf(512, Direction::Readable), status()})->status,
              BlockStatus::IoErr);
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_OUT, 0), buf(512, Direction::Writable), status()})->status,
              BlockStatus::IoErr);
}

TEST_F(ParseTest, UnknownTypesAreUnsupp) {
    for (uint32_t type : {2u, 3u, 14u, 0x80000000u, 0xffffffffu})
        EXPECT_EQ(parse({header(type, 0), status()})->status, BlockStatus::Unsupp) << type;
}

TEST_F(ParseTest, GetIdNeedsTwentyBytes) {
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_GET_ID, 0), buf(19, Direction::Writable), status()})->status,
              BlockStatus::IoErr);
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_GET_ID, 0), buf(20, Direction::Writable), status()})->status,
              BlockStatus::Ok);
}

// FLUSH ignores its sector and any data.
TEST_F(ParseTest, FlushIgnoresSectorAndData) {
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_FLUSH, 12345), status()})->op, BlockOp::Flush);
    auto r = parse({header(VIRTIO_BLK_T_FLUSH, 7), buf(512, Direction::Readable), status()});
    EXPECT_EQ(r->status, BlockStatus::Ok);
}

TEST_F(ParseTest, WritesToReadOnlyDiskAreIoErr) {
    DiskInfo ro = DISK;
    ro.read_only = true;
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_OUT, 0), buf(512, Direction::Readable), status()}, ro)->status,
              BlockStatus::IoErr);
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_FLUSH, 0), status()}, ro)->status, BlockStatus::IoErr);
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_WRITE_ZEROES, 0), bytes(test::segment(0, 1, 0)), status()}, ro)
                  ->status,
              BlockStatus::IoErr);
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_IN, 0), buf(512, Direction::Writable), status()}, ro)->status,
              BlockStatus::Ok);
}

TEST_F(ParseTest, DiscardAndWriteZeroesTakeOneCheckedSegment) {
    auto d = parse({header(VIRTIO_BLK_T_DISCARD, 0), bytes(test::segment(8, 16, 0)), status()});
    EXPECT_EQ(d->status, BlockStatus::Ok);
    EXPECT_EQ(d->offset, 8 * 512u);
    EXPECT_EQ(d->len, 16 * 512u);
    auto z = parse({header(VIRTIO_BLK_T_WRITE_ZEROES, 0),
                    bytes(test::segment(0, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)), status()});
    EXPECT_EQ(z->status, BlockStatus::Ok);
    EXPECT_TRUE(z->unmap);
    // UNMAP is for WRITE_ZEROES only; unknown flags; zero, too many or past-the-end sectors;
    // two segments; a short segment.
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_DISCARD, 0),
                     bytes(test::segment(0, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)), status()})
                  ->status,
              BlockStatus::Unsupp);
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_WRITE_ZEROES, 0), bytes(test::segment(0, 1, 4)), status()})
                  ->status,
              BlockStatus::Unsupp);
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_DISCARD, 0), bytes(test::segment(0, 0, 0)), status()})->status,
              BlockStatus::IoErr);
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_DISCARD, 0), bytes(test::segment(0, 1025, 0)), status()})
                  ->status,
              BlockStatus::IoErr);
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_DISCARD, 0), bytes(test::segment(CAPACITY, 1, 0)), status()})
                  ->status,
              BlockStatus::IoErr);
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_DISCARD, 0), bytes(test::segment(~0ULL, 8, 0)), status()})
                  ->status,
              BlockStatus::IoErr);
    auto two = test::segment(0, 1, 0);
    auto second = test::segment(1, 1, 0);
    two.insert(two.end(), second.begin(), second.end());
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_DISCARD, 0), bytes(two), status()})->status,
              BlockStatus::IoErr);
    EXPECT_EQ(parse({header(VIRTIO_BLK_T_DISCARD, 0), buf(8, Direction::Readable), status()})->status,
              BlockStatus::IoErr);
}

} // namespace
} // namespace minivmm::block
