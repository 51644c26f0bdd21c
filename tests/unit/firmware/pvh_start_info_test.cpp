// The PVH start info as a guest would read it back from guest memory.
#include "pvh_start_info.hpp"

#include <gtest/gtest.h>

#include "memory/layout.hpp"

namespace minivmm::firmware {
namespace {

GuestMemory make_memory() { return std::move(*GuestMemory::create({{GuestAddress(0), 16 << 20}})); }

TEST(PvhStartInfo, GuestReadsMagicPointersAndMemoryMap) {
    GuestMemory mem = make_memory();
    auto map = build_e820_map(16 << 20);
    ASSERT_TRUE(map);
    PvhBootInfo info{GuestAddress(0x20000), GuestAddress(0xe0000), *map, 0, 0};
    auto base = write_pvh_start_info(mem, GuestAddress(0x6000), 0x1000, info);
    ASSERT_TRUE(base);
    EXPECT_EQ(base->value(), 0x6000u);
    auto start = mem.read_obj<HvmStartInfo>(GuestAddress(0x6000));
    ASSERT_TRUE(start);
    EXPECT_EQ(start->magic, 0x336ec578u);
    EXPECT_EQ(start->version, 1u);
    EXPECT_EQ(start->nr_modules, 0u);
    EXPECT_EQ(start->modlist_paddr, 0u);
    EXPECT_EQ(start->cmdline_paddr, 0x20000u);
    EXPECT_EQ(start->rsdp_paddr, 0xe0000u);
    ASSERT_EQ(start->memmap_entries, map->size());
    for (uint32_t i = 0; i < start->memmap_entries; ++i) {
        auto e = mem.read_obj<HvmMemmapEntry>(GuestAddress(start->memmap_paddr + i * 24));
        ASSERT_TRUE(e);
        EXPECT_EQ(e->addr, uint64_t{(*map)[i].addr});
        EXPECT_EQ(e->size, uint64_t{(*map)[i].size});
        EXPECT_EQ(e->type, uint32_t{(*map)[i].type});
        EXPECT_EQ(e->reserved, 0u);
    }
}

TEST(PvhStartInfo, InitrdBecomesTheOneModule) {
    GuestMemory mem = make_memory();
    PvhBootInfo info{GuestAddress(0), GuestAddress(0xe0000), {}, 0x800000, 0x1234};
    ASSERT_TRUE(write_pvh_start_info(mem, GuestAddress(0x6000), 0x1000, info));
    auto start = mem.read_obj<HvmStartInfo>(GuestAddress(0x6000));
    ASSERT_TRUE(start);
    ASSERT_EQ(start->nr_modules, 1u);
    auto module = mem.read_obj<HvmModlistEntry>(GuestAddress(start->modlist_paddr));
    ASSERT_TRUE(module);
    EXPECT_EQ(module->paddr, 0x800000u);
    EXPECT_EQ(module->size, 0x1234u);
    EXPECT_GE(start->memmap_paddr, start->modlist_paddr + sizeof(HvmModlistEntry));
}

TEST(PvhStartInfo, RefusesWhatDoesNotFit) {
    GuestMemory mem = make_memory();
    std::vector<E820Entry> big(200, E820Entry{0, 4096, 1});
    PvhBootInfo info{GuestAddress(0), GuestAddress(0), big, 0, 0};
    EXPECT_FALSE(write_pvh_start_info(mem, GuestAddress(0x6000), 0x1000, info));
    PvhBootInfo small{GuestAddress(0), GuestAddress(0), {}, 0, 0};
    EXPECT_FALSE(write_pvh_start_info(mem, GuestAddress((16 << 20) - 16), 0x1000, small));
}

} // namespace
} // namespace minivmm::firmware
