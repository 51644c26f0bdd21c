// SymbolTable: names for guest code addresses in hang reports, from the kernel's own ELF symbol
// table (a vmlinux given as --kernel) or a System.map. Both inputs are untrusted files: every
// offset, size and name is checked, and a malformed table is an error, never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace minivmm {

class SymbolTable {
public:
    struct Symbol {
        uint64_t address = 0;
        uint64_t size = 0;   // 0: unknown (System.map, assembler labels)
        std::string name;
    };
    // Beyond this distance past the nearest symbol with no size, an address is not named.
    static constexpr uint64_t MAX_UNSIZED_OFFSET = 64 * 1024;
    static constexpr size_t MAX_NAME = 256;   // longer names are cut

    SymbolTable() = default;
    // The function and untyped symbols of an ELF64 file's SHT_SYMTAB (with its linked string
    // table). A file without a symbol table gives an empty table; a malformed ELF or table is
    // an ErrorCode::Input error.
    static Result<SymbolTable> from_elf(std::span<const uint8_t> file);
    // The text of a System.map: "ADDRESS TYPE NAME" per line, the address in hex. Lines of
    // other shapes are an ErrorCode::Input error naming the line; only text symbols (t, T, w, W)
    // are kept.
    static Result<SymbolTable> from_system_map(std::string_view text);

    // "name+0xoff" for the symbol that holds `address` (or the nearest below it within
    // MAX_UNSIZED_OFFSET when it has no size), or nothing.
    std::optional<std::string> describe(uint64_t address) const;
    size_t size() const { return symbols_.size(); }
    bool empty() const { return symbols_.empty(); }

private:
    explicit SymbolTable(std::vector<Symbol> symbols);
    std::vector<Symbol> symbols_;   // sorted by address
};

} // namespace minivmm
