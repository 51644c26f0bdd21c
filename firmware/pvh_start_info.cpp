#include "pvh_start_info.hpp"

#include <cstring>

namespace minivmm::firmware {

Result<GuestAddress> write_pvh_start_info(const GuestMemory& mem, GuestAddress base,
                                          uint64_t space, const PvhBootInfo& info) {
    bool has_module = info.initrd_size != 0;
    uint64_t modlist_off = sizeof(HvmStartInfo);
    uint64_t memmap_off = modlist_off + (has_module ? sizeof(HvmModlistEntry) : 0);
    uint64_t total = memmap_off + info.memory_map.size() * sizeof(HvmMemmapEntry);
    if (total > space)
        return Error(ErrorCode::Invalid,
                     fmt::format("PVH start info needs {} bytes, {} available", total, space));

    std::vector<uint8_t> bytes(total, 0);
    HvmStartInfo start{};
    start.magic = HVM_START_MAGIC;
    start.version = HVM_START_INFO_VERSION;
    start.nr_modules = has_module ? 1 : 0;
    start.modlist_paddr = has_module ? base.value() + modlist_off : 0;
    start.cmdline_paddr = info.cmdline.value();
    start.rsdp_paddr = info.rsdp.value();
    start.memmap_paddr = base.value() + memmap_off;
    start.memmap_entries = static_cast<uint32_t>(info.memory_map.size());
    std::memcpy(bytes.data(), &start, sizeof start);
    if (has_module) {
        HvmModlistEntry module{info.initrd_addr, info.initrd_size, 0, 0};
        std::memcpy(bytes.data() + modlist_off, &module, sizeof module);
    }
    for (size_t i = 0; i < info.memory_map.size(); ++i) {
        const E820Entry& e = info.memory_map[i];
        HvmMemmapEntry entry{e.addr, e.size, e.type, 0};
        std::memcpy(bytes.data() + memmap_off + i * sizeof entry, &entry, sizeof entry);
    }
    auto written = mem.write(base, bytes);
    if (!written) return written.error().with_context("PVH start info");
    return base;
}

} // namespace minivmm::firmware
