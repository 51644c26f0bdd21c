// libFuzzer target for the ELF/PVH kernel parser and loader: any input must give a valid kernel
// or an ErrorCode::Input error, and loading must stay inside guest RAM above 1 MiB.
#include <cstddef>
#include <cstdint>
#include <span>

#include "boot/elf_kernel.hpp"
#include "memory/guest_memory.hpp"

using namespace minivmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const GuestMemory mem = *GuestMemory::create({{GuestAddress(0), 4ULL << 20}});
    std::span<const uint8_t> file(data, size);
    auto kernel = parse_elf_kernel(file);
    if (!kernel) {
        if (kernel.error().code() != ErrorCode::Input) __builtin_trap();
        return 0;
    }
    for (const auto& s : kernel->segments)
        if (s.offset > size || s.filesz > size - s.offset || s.filesz > s.memsz) __builtin_trap();
    auto k = load_elf_kernel(mem, file, *kernel);
    if (!k && k.error().code() != ErrorCode::Input) __builtin_trap();
    if (k && (k->entry.value() != kernel->pvh_entry || k->end.value() > (4ULL << 20)))
        __builtin_trap();
    return 0;
}
