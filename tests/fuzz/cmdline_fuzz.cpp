// libFuzzer target: the kernel command-line builder and the
// initrd placement of vmm/boot/cmdline. Parameters with NULs, non-ASCII bytes and any length go
// into a Cmdline of random capacity. Oracles:
//  - the line never exceeds its capacity and never contains a NUL; bytes() is the line + NUL;
//  - add() either appends exactly " param" (or "param" first) or leaves the line unchanged, and
//    it fails exactly when the parameter is empty, holds a NUL, or would not fit;
//  - place_initrd() returns a page-aligned address at or above the kernel end (rounded up to a
//    page) whose range ends at or below both the RAM top and initrd_addr_max + 1.
#include <cstddef>
#include <cstdint>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "boot/cmdline.hpp"

using namespace minivmm;

namespace {

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) __builtin_trap();                                                             \
    } while (0)

void check_line(const Cmdline& c) {
    CHECK(c.str().size() <= c.capacity());
    CHECK(c.str().find('\0') == std::string::npos);
    auto bytes = c.bytes();
    CHECK(bytes.size() == c.str().size() + 1 && bytes.back() == 0);
    CHECK(std::string(bytes.begin(), bytes.end() - 1) == c.str());
}

void fuzz_cmdline(FuzzedDataProvider& in) {
    uint64_t capacity = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint64_t>(0, 300)
                                         : in.ConsumeIntegral<uint64_t>();
    Cmdline c(capacity);
    for (int i = 0; i < 64 && in.remaining_bytes() > 0; ++i) {
        const std::string before = c.str();
        std::string param = in.ConsumeRandomLengthString(400);
        bool keyed = in.ConsumeBool();
        std::string value = keyed ? in.ConsumeRandomLengthString(100) : std::string();
        std::string full = keyed ? param + "=" + value : param;
        uint64_t sep = before.empty() ? 0 : 1;
        bool fits = before.size() + sep + full.size() <= capacity;   // small sizes: no overflow
        bool valid = !full.empty() && full.find('\0') == std::string::npos;
        auto r = keyed ? c.add(param, value) : c.add(param);
        CHECK(r.has_value() == (fits && valid));
        if (r) CHECK(c.str() == before + (sep ? " " : "") + full);
        else CHECK(c.str() == before);
        check_line(c);
    }
}

void fuzz_initrd(FuzzedDataProvider& in) {
    constexpr uint64_t PAGE = 4096;
    uint64_t ram_top = in.ConsumeIntegral<uint64_t>();
    uint64_t addr_max = in.ConsumeBool() ? DEFAULT_INITRD_ADDR_MAX : in.ConsumeIntegral<uint64_t>();
    uint64_t size = in.ConsumeIntegral<uint64_t>();
    uint64_t kernel_end = in.ConsumeIntegral<uint64_t>();
    auto r = place_initrd(GuestAddress(ram_top), addr_max, size, GuestAddress(kernel_end));
    if (!r) return;
    uint64_t a = r->value();
    CHECK(size != 0);
    CHECK(a % PAGE == 0);
    CHECK(kernel_end <= UINT64_MAX - (PAGE - 1));
    CHECK(a >= ((kernel_end + PAGE - 1) & ~(PAGE - 1)));
    CHECK(a <= UINT64_MAX - size);
    CHECK(a + size <= ram_top);
    CHECK(addr_max == UINT64_MAX || a + size - 1 <= addr_max);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    if (in.ConsumeBool()) fuzz_initrd(in);
    else fuzz_cmdline(in);
    return 0;
}
