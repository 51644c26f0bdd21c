// libFuzzer target for the bzImage parser and loader: any input must give a valid kernel or an
// ErrorCode::Input error, and a successful load must stay inside guest RAM.
#include <cstddef>
#include <cstdint>
#include <span>

#include "boot/bzimage.hpp"
#include "memory/guest_memory.hpp"

using namespace minivmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // 2 MiB of RAM: kernels whose init_size passes 1 MiB exercise the "does not fit" path.
    static const GuestMemory mem = *GuestMemory::create({{GuestAddress(0), 2ULL << 20}});
    std::span<const uint8_t> file(data, size);
    auto info = parse_bzimage(file);
    if (!info) {
        if (info.error().code() != ErrorCode::Input) __builtin_trap();
        return 0;
    }
    if (info->pm_offset + info->pm_size != size || info->pm_size == 0) __builtin_trap();
    auto k = load_bzimage(mem, file, *info);
    if (k && k->entry != GuestAddress(0x100200)) __builtin_trap();
    if (!k && k.error().code() != ErrorCode::Input) __builtin_trap();
    return 0;
}
