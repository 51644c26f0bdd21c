// Unit tests for GuestMemory (vmm/memory/guest_memory.hpp): creation rules, overflow-proof range
// checks at region edges and across holes, the x86 layout, and copies in and out of guest RAM.
#include "memory/guest_memory.hpp"

#include <array>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "memory/layout.hpp"

namespace minivmm {
namespace {

constexpr uint64_t PAGE = 4096;
constexpr uint64_t MiB = 1ULL << 20;
constexpr uint64_t GiB = 1ULL << 30;

using Ranges = std::vector<std::pair<GuestAddress, uint64_t>>;

GuestMemory make(const Ranges& ranges) {
    auto m = GuestMemory::create(ranges);
    EXPECT_TRUE(m.has_value()) << m.error().message();
    return std::move(m).value();
}

// Two regions with a one-page hole: [0x1000, 0x3000) and [0x4000, 0x5000).
GuestMemory two_regions() {
    return make({{GuestAddress(0x1000), 2 * PAGE}, {GuestAddress(0x4000), PAGE}});
}

TEST(GuestMemory, CreateRefusesZeroSizedRegion) {
    auto m = GuestMemory::create({{GuestAddress(0), 0}});
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().code(), ErrorCode::Invalid);
}

TEST(GuestMemory, CreateRefusesUnalignedBaseOrSize) {
    EXPECT_FALSE(GuestMemory::create({{GuestAddress(0x800), PAGE}}).has_value());
    EXPECT_FALSE(GuestMemory::create({{GuestAddress(0), PAGE + 1}}).has_value());
    EXPECT_FALSE(GuestMemory::create({{GuestAddress(1), PAGE}}).has_value());
    EXPECT_TRUE(GuestMemory::create({{GuestAddress(PAGE), PAGE}}).has_value());
}

TEST(GuestMemory, CreateRefusesWrappingRegion) {
    auto m = GuestMemory::create({{GuestAddress(0xffff'ffff'ffff'f000), 2 * PAGE}});
    ASSERT_FALSE(m.has_value());
    EXPECT_EQ(m.error().code(), ErrorCode::Invalid);
}

TEST(GuestMemory, CreateRefusesOverlap) {
    // Identical, partial at either end, and one containing the other.
    const Ranges cases[] = {
        {{GuestAddress(0x1000), PAGE}, {GuestAddress(0x1000), PAGE}},
        {{GuestAddress(0x1000), 2 * PAGE}, {GuestAddress(0x2000), 2 * PAGE}},
        {{GuestAddress(0x2000), 2 * PAGE}, {GuestAddress(0x1000), 2 * PAGE}},
        {{GuestAddress(0x1000), 4 * PAGE}, {GuestAddress(0x2000), PAGE}},
        {{GuestAddress(0x2000), PAGE}, {GuestAddress(0x1000), 4 * PAGE}},
    };
    for (const auto& ranges : cases) {
        auto m = GuestMemory::create(ranges);
        ASSERT_FALSE(m.has_value()) << ranges[0].first.value() << " vs " << ranges[1].first.value();
        EXPECT_EQ(m.error().code(), ErrorCode::Invalid);
    }
}

TEST(GuestMemory, CreateAcceptsAdjacentRegions) {
    auto m = GuestMemory::create({{GuestAddress(0), PAGE}, {GuestAddress(PAGE), PAGE}});
    ASSERT_TRUE(m.has_value()) << m.error().message();
    EXPECT_EQ(m->regions().size(), 2u);
    EXPECT_EQ(m->total_size(), 2 * PAGE);
}

TEST(GuestMemory, RegionsAreSortedByBase) {
    GuestMemory m = make({{GuestAddress(0x8000), PAGE},
                          {GuestAddress(0x1000), PAGE},
                          {GuestAddress(0x4000), PAGE}});
    ASSERT_EQ(m.regions().size(), 3u);
    EXPECT_EQ(m.regions()[0].base.value(), 0x1000u);
    EXPECT_EQ(m.regions()[1].base.value(), 0x4000u);
    EXPECT_EQ(m.regions()[2].base.value(), 0x8000u);
}

TEST(GuestMemory, NewMemoryReadsZero) {
    GuestMemory m = make({{GuestAddress(0), 4 * PAGE}});
    auto s = m.slice(GuestAddress(0), 4 * PAGE);
    ASSERT_TRUE(s.has_value()) << s.error().message();
    for (uint8_t b : *s) ASSERT_EQ(b, 0);
}

TEST(GuestMemory, RegionEdges) {
    GuestMemory m = two_regions();
    // First region [0x1000, 0x3000).
    EXPECT_TRUE(m.check_range(GuestAddress(0x1000), 1));
    EXPECT_TRUE(m.check_range(GuestAddress(0x1000), 2 * PAGE));
    EXPECT_TRUE(m.check_range(GuestAddress(0x2fff), 1));    // last byte in
    EXPECT_FALSE(m.check_range(GuestAddress(0x2fff), 2));   // one byte past the end
    EXPECT_FALSE(m.check_range(GuestAddress(0x3000), 1));   // first byte past the end
    EXPECT_FALSE(m.check_range(GuestAddress(0x0fff), 1));   // byte before the start
    EXPECT_FALSE(m.check_range(GuestAddress(0x0fff), 2));   // straddles the start
    EXPECT_FALSE(m.check_range(GuestAddress(0x1000), 2 * PAGE + 1));
    // Second region [0x4000, 0x5000).
    EXPECT_TRUE(m.check_range(GuestAddress(0x4fff), 1));
    EXPECT_FALSE(m.check_range(GuestAddress(0x5000), 1));
}

TEST(GuestMemory, ZeroLengthValidInsideAndAtEndOnly) {
    GuestMemory m = two_regions();
    EXPECT_TRUE(m.check_range(GuestAddress(0x1000), 0));
    EXPECT_TRUE(m.check_range(GuestAddress(0x2000), 0));
    EXPECT_TRUE(m.check_range(GuestAddress(0x3000), 0));    // at the end of a region
    EXPECT_FALSE(m.check_range(GuestAddress(0x3001), 0));   // in the hole
    EXPECT_FALSE(m.check_range(GuestAddress(0x0fff), 0));   // before RAM
    EXPECT_TRUE(m.check_range(GuestAddress(0x5000), 0));
    EXPECT_FALSE(m.check_range(GuestAddress(0x5001), 0));
    auto s = m.slice(GuestAddress(0x3000), 0);
    ASSERT_TRUE(s.has_value()) << s.error().message();
    EXPECT_TRUE(s->empty());
}

TEST(GuestMemory, RangeAcrossHoleRefused) {
    GuestMemory m = two_regions();
    EXPECT_FALSE(m.check_range(GuestAddress(0x2fff), 0x1002));   // last byte .. first byte
    EXPECT_FALSE(m.check_range(GuestAddress(0x1000), 0x4000));   // covers both regions
    EXPECT_FALSE(m.check_range(GuestAddress(0x3000), PAGE));     // the hole itself
    EXPECT_FALSE(m.check_range(GuestAddress(0x3fff), 2));        // hole into second region
    std::array<uint8_t, 2> buf{};
    EXPECT_FALSE(m.read(GuestAddress(0x3fff), buf).has_value());
    EXPECT_FALSE(m.write(GuestAddress(0x2fff), buf).has_value());
}

TEST(GuestMemory, RangeAcrossAdjacentRegionsRefused) {
    // A range must lie inside one region, even when the regions touch.
    GuestMemory m = make({{GuestAddress(0), PAGE}, {GuestAddress(PAGE), PAGE}});
    EXPECT_TRUE(m.check_range(GuestAddress(0), PAGE));
    EXPECT_TRUE(m.check_range(GuestAddress(PAGE), PAGE));
    EXPECT_FALSE(m.check_range(GuestAddress(PAGE - 1), 2));
    EXPECT_FALSE(m.slice(GuestAddress(0), 2 * PAGE).has_value());
}

TEST(GuestMemory, WrapAroundRefused) {
    GuestMemory m = two_regions();
    // addr + len wraps to a small value that would look in-range to a naive check.
    EXPECT_FALSE(m.check_range(GuestAddress(0x1000), UINT64_MAX));
    EXPECT_FALSE(m.check_range(GuestAddress(0x2000), UINT64_MAX - 0x1000 + 2));
    EXPECT_FALSE(m.check_range(GuestAddress(0x1001), UINT64_MAX - 0x1000 + 1));   // sum == 0x2000
    EXPECT_FALSE(m.check_range(GuestAddress(UINT64_MAX), 1));
    EXPECT_FALSE(m.check_range(GuestAddress(UINT64_MAX), 0x2001));                  // sum == 0x2000
    EXPECT_FALSE(m.check_range(GuestAddress(UINT64_MAX - 0xfff), 0x3000));
    EXPECT_FALSE(m.check_range(GuestAddress(UINT64_MAX), UINT64_MAX));
    EXPECT_FALSE(m.slice(GuestAddress(0x1000), UINT64_MAX).has_value());
}

TEST(GuestMemory, RegionNearTopOfAddressSpace) {
    constexpr uint64_t base = 0xffff'ffff'ffff'e000;   // [2^64 - 8 KiB, 2^64 - 4 KiB)
    GuestMemory m = make({{GuestAddress(base), PAGE}});
    EXPECT_TRUE(m.check_range(GuestAddress(base), PAGE));
    EXPECT_TRUE(m.check_range(GuestAddress(base + PAGE - 1), 1));
    EXPECT_FALSE(m.check_range(GuestAddress(base + PAGE - 1), 2));
    EXPECT_FALSE(m.check_range(GuestAddress(base), UINT64_MAX));
    EXPECT_FALSE(m.check_range(GuestAddress(base + 1), UINT64_MAX));
    EXPECT_FALSE(m.check_range(GuestAddress(UINT64_MAX), 1));
    EXPECT_FALSE(m.check_range(GuestAddress(base + PAGE - 1), UINT64_MAX - base));
    ASSERT_TRUE(m.write_obj<uint32_t>(GuestAddress(base + PAGE - 4), 0xdeadbeef).has_value());
    auto v = m.read_obj<uint32_t>(GuestAddress(base + PAGE - 4));
    ASSERT_TRUE(v.has_value()) << v.error().message();
    EXPECT_EQ(*v, 0xdeadbeefu);
    EXPECT_FALSE(m.read_obj<uint32_t>(GuestAddress(base + PAGE - 3)).has_value());
}

TEST(GuestMemory, CheckRangeMatchesReferenceModel) {
    // Random layouts and (addr, len) pairs against a naive 128-bit model.
    std::mt19937_64 rng(12345);
    for (int layout = 0; layout < 20; ++layout) {
        Ranges ranges;
        uint64_t next = (rng() % 4) * PAGE;
        for (int i = 0; i < 3; ++i) {
            uint64_t size = (1 + rng() % 4) * PAGE;
            ranges.emplace_back(GuestAddress(next), size);
            next += size + (rng() % 3) * PAGE;   // adjacent or with a hole
        }
        GuestMemory m = make(ranges);
        auto model = [&](uint64_t addr, uint64_t len) {
            for (const auto& [base, size] : ranges) {
                auto end = static_cast<unsigned __int128>(base.value()) + size;
                if (addr >= base.value() && static_cast<unsigned __int128>(addr) + len <= end)
                    return true;
            }
            return false;
        };
        for (int i = 0; i < 2000; ++i) {
            uint64_t addr = 0;
            uint64_t len = 0;
            switch (rng() % 4) {
            case 0: addr = rng() % (next + PAGE); len = rng() % (3 * PAGE); break;
            case 1: addr = rng() % (next + PAGE); len = UINT64_MAX - rng() % (next + PAGE); break;
            case 2: addr = UINT64_MAX - rng() % PAGE; len = rng() % (next + PAGE); break;
            default: addr = rng(); len = rng(); break;
            }
            ASSERT_EQ(m.check_range(GuestAddress(addr), len), model(addr, len))
                << "layout " << layout << " addr " << std::hex << addr << " len " << len;
        }
    }
}

TEST(GuestMemory, CreateX86SplitsAroundHole) {
    const uint64_t size = 3 * GiB + 8 * MiB;
    auto m = GuestMemory::create_x86(size);
    ASSERT_TRUE(m.has_value()) << m.error().message();
    ASSERT_EQ(m->regions().size(), 2u);
    EXPECT_EQ(m->regions()[0].base.value(), layout::RAM_START);
    EXPECT_EQ(m->regions()[0].size, layout::MMIO_HOLE_START);
    EXPECT_EQ(m->regions()[1].base.value(), layout::MMIO_HOLE_END);
    EXPECT_EQ(m->regions()[1].size, 8 * MiB);
    EXPECT_EQ(m->total_size(), size);

    EXPECT_TRUE(m->check_range(GuestAddress(layout::MMIO_HOLE_START - 1), 1));
    EXPECT_FALSE(m->check_range(GuestAddress(layout::MMIO_HOLE_START), 1));
    EXPECT_FALSE(m->check_range(GuestAddress(layout::SCRATCH_MMIO_BASE), 4));
    EXPECT_FALSE(m->check_range(GuestAddress(layout::MMIO_HOLE_END - 1), 1));
    EXPECT_TRUE(m->check_range(GuestAddress(layout::MMIO_HOLE_END), 8 * MiB));
    EXPECT_FALSE(m->check_range(GuestAddress(layout::MMIO_HOLE_END), 8 * MiB + 1));
    EXPECT_FALSE(m->check_range(GuestAddress(layout::MMIO_HOLE_START - 4), 8));

    // The high region is real, separate memory.
    ASSERT_TRUE(m->write_obj<uint64_t>(GuestAddress(layout::MMIO_HOLE_END), 0x1122334455667788)
                    .has_value());
    EXPECT_EQ(*m->read_obj<uint64_t>(GuestAddress(layout::MMIO_HOLE_END)), 0x1122334455667788u);
    EXPECT_EQ(*m->read_obj<uint64_t>(GuestAddress(0)), 0u);
}

TEST(GuestMemory, CreateX86BelowHoleIsOneRegion) {
    for (uint64_t size : {layout::MIN_RAM_SIZE, 16 * MiB, layout::MMIO_HOLE_START}) {
        auto m = GuestMemory::create_x86(size);
        ASSERT_TRUE(m.has_value()) << m.error().message();
        ASSERT_EQ(m->regions().size(), 1u) << size;
        EXPECT_EQ(m->regions()[0].base.value(), 0u);
        EXPECT_EQ(m->regions()[0].size, size);
        EXPECT_FALSE(m->check_range(GuestAddress(size), 1));
    }
}

TEST(GuestMemory, CreateX86RefusesSizeOutsideLimits) {
    for (uint64_t size : {uint64_t{0}, layout::MIN_RAM_SIZE - PAGE, layout::MAX_RAM_SIZE + PAGE,
                          UINT64_MAX}) {
        auto m = GuestMemory::create_x86(size);
        ASSERT_FALSE(m.has_value()) << size;
        EXPECT_EQ(m.error().code(), ErrorCode::Invalid);
    }
}

TEST(GuestMemory, CreateX86RefusesUnalignedSize) {
    EXPECT_FALSE(GuestMemory::create_x86(16 * MiB + 1).has_value());
}

struct Header {
    uint32_t magic;
    uint16_t version;
    uint16_t flags;
    uint64_t address;
};

TEST(GuestMemory, ReadWriteObjRoundTrip) {
    GuestMemory m = two_regions();
    Header h{0x74726976, 2, 0x8001, 0x0123'4567'89ab'cdef};
    ASSERT_TRUE(m.write_obj(GuestAddress(0x1ff8), h).has_value());   // crosses a page, one region
    auto back = m.read_obj<Header>(GuestAddress(0x1ff8));
    ASSERT_TRUE(back.has_value()) << back.error().message();
    EXPECT_EQ(back->magic, h.magic);
    EXPECT_EQ(back->version, h.version);
    EXPECT_EQ(back->flags, h.flags);
    EXPECT_EQ(back->address, h.address);
    // Little-endian layout in guest memory.
    EXPECT_EQ(*m.read_obj<uint8_t>(GuestAddress(0x1ff8)), 0x76);
    EXPECT_EQ(*m.read_obj<uint16_t>(GuestAddress(0x1ffc)), 2);
}

TEST(GuestMemory, ObjAccessOutsideRamFails) {
    GuestMemory m = two_regions();
    EXPECT_FALSE(m.write_obj<uint64_t>(GuestAddress(0x2ffc), 1).has_value());
    auto r = m.read_obj<uint64_t>(GuestAddress(0x2ffc));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::Invalid);
    // The failed write left the in-range bytes untouched.
    EXPECT_EQ(*m.read_obj<uint32_t>(GuestAddress(0x2ffc)), 0u);
}

TEST(GuestMemory, FailedReadLeavesBufferUntouched) {
    GuestMemory m = two_regions();
    std::array<uint8_t, 4> buf{1, 2, 3, 4};
    EXPECT_FALSE(m.read(GuestAddress(0x2ffe), buf).has_value());
    EXPECT_EQ(buf, (std::array<uint8_t, 4>{1, 2, 3, 4}));
}

TEST(GuestMemory, ReadWriteBuffers) {
    GuestMemory m = two_regions();
    const std::array<uint8_t, 5> in{'h', 'e', 'l', 'l', 'o'};
    ASSERT_TRUE(m.write(GuestAddress(0x4ffb), in).has_value());   // ends at the last byte
    std::array<uint8_t, 5> out{};
    ASSERT_TRUE(m.read(GuestAddress(0x4ffb), out).has_value());
    EXPECT_EQ(out, in);
    EXPECT_TRUE(m.read(GuestAddress(0x5000), std::span<uint8_t>()).has_value());
}

TEST(GuestMemory, SliceAliasesGuestMemory) {
    GuestMemory m = two_regions();
    auto s = m.slice(GuestAddress(0x2000), 16);
    ASSERT_TRUE(s.has_value()) << s.error().message();
    ASSERT_EQ(s->size(), 16u);
    (*s)[3] = 0x5a;
    EXPECT_EQ(*m.read_obj<uint8_t>(GuestAddress(0x2003)), 0x5a);
    ASSERT_TRUE(m.write_obj<uint8_t>(GuestAddress(0x2004), 0xa5).has_value());
    EXPECT_EQ((*s)[4], 0xa5);
    // Host addresses follow guest addresses within a region.
    EXPECT_EQ(s->data(), m.regions()[0].host + 0x1000);
}

TEST(GuestMemory, SliceOutsideRamIsError) {
    GuestMemory m = two_regions();
    auto s = m.slice(GuestAddress(0x3000), 1);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code(), ErrorCode::Invalid);
}

TEST(GuestMemory, SurvivesMove) {
    GuestMemory a = two_regions();
    ASSERT_TRUE(a.write_obj<uint32_t>(GuestAddress(0x4000), 0xcafef00d).has_value());
    GuestMemory b = std::move(a);
    auto v = b.read_obj<uint32_t>(GuestAddress(0x4000));
    ASSERT_TRUE(v.has_value()) << v.error().message();
    EXPECT_EQ(*v, 0xcafef00du);
}

} // namespace
} // namespace minivmm
