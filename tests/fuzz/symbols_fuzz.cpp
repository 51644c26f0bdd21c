// Fuzz target: SymbolTable from arbitrary bytes, as an ELF file and as System.map text, then
// lookups. Oracle: no crash or sanitizer report; a name is never longer than MAX_NAME plus
// its "+0x..." suffix.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "boot/symbols.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using minivmm::SymbolTable;
    std::span<const uint8_t> bytes(data, size);
    auto check = [&](const SymbolTable& t) {
        for (size_t i = 0; i + 8 <= size && i < 64; i += 8) {
            uint64_t addr = 0;
            for (size_t k = 0; k < 8; ++k) addr |= uint64_t{data[i + k]} << (8 * k);
            auto name = t.describe(addr);
            if (name && name->size() > SymbolTable::MAX_NAME + 19) std::abort();
        }
    };
    if (auto t = SymbolTable::from_elf(bytes)) check(*t);
    if (auto t = SymbolTable::from_system_map(
            std::string_view(reinterpret_cast<const char*>(data), size)))
        check(*t);
    return 0;
}
