// The e820 map for minivmm's x86 layout; see e820.hpp for the shape of the map.
#include "e820.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "memory/layout.hpp"

namespace minivmm::firmware {

namespace {

void add(std::vector<E820Entry>& map, uint64_t start, uint64_t end, uint32_t type) {
    if (end > start) map.push_back(E820Entry{start, end - start, type});
}

} // namespace

Result<std::vector<E820Entry>> build_e820_map(uint64_t ram_size) {
    // MIN_RAM_SIZE (2 MiB) is above 1 MiB, so the low RAM, the reserved BIOS area and some RAM
    // above 1 MiB always exist.
    static_assert(layout::MIN_RAM_SIZE > layout::BIOS_AREA_END);
    if (ram_size < layout::MIN_RAM_SIZE || ram_size > layout::MAX_RAM_SIZE)
        return Error(ErrorCode::Invalid,
                     fmt::format("e820: guest RAM size {:#x} is outside {:#x}..{:#x}", ram_size,
                                 layout::MIN_RAM_SIZE, layout::MAX_RAM_SIZE));

    std::vector<E820Entry> map;
    const uint64_t low_end = std::min(ram_size, layout::MMIO_HOLE_START);
    add(map, layout::RAM_START, layout::EBDA_START, E820_TYPE_RAM);
    add(map, layout::EBDA_START, layout::BIOS_AREA_END, E820_TYPE_RESERVED);
    add(map, layout::BIOS_AREA_END, low_end, E820_TYPE_RAM);
    const uint64_t high_size = ram_size - low_end;
    add(map, layout::MMIO_HOLE_END, layout::MMIO_HOLE_END + high_size, E820_TYPE_RAM);
    return map;
}

} // namespace minivmm::firmware
