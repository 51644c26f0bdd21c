// Symbol tables from an ELF64 file or a System.map. Untrusted input: each offset and length is
// checked against the file (off <= size && len <= size - off, which cannot overflow).
#include "boot/symbols.hpp"

#include "boot/file_bytes.hpp"

#include <elf.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace minivmm {

namespace {

Error input(std::string what) { return Error(ErrorCode::Input, "symbol table: " + std::move(what)); }

// The NUL-terminated name at `off` of `strtab`, cut at MAX_NAME; empty if `off` is outside.
std::string name_at(std::span<const uint8_t> strtab, uint64_t off) {
    if (off >= strtab.size()) return {};
    const auto* start = reinterpret_cast<const char*>(strtab.data() + off);
    size_t limit = std::min<size_t>(strtab.size() - off, SymbolTable::MAX_NAME);
    return std::string(start, strnlen(start, limit));
}

} // namespace

SymbolTable::SymbolTable(std::vector<Symbol> symbols) : symbols_(std::move(symbols)) {
    std::stable_sort(symbols_.begin(), symbols_.end(),
                     [](const Symbol& a, const Symbol& b) { return a.address < b.address; });
}

namespace {

// One ELF class: Ehdr/Shdr/Sym are the Elf32_ or Elf64_ structures.
template <typename Ehdr, typename Shdr, typename Sym>
Result<std::vector<SymbolTable::Symbol>> elf_symbols(std::span<const uint8_t> file) {
    if (file.size() < sizeof(Ehdr)) return input("file shorter than an ELF header");
    auto eh = read_at<Ehdr>(file, 0);
    std::vector<SymbolTable::Symbol> symbols;
    if (eh.e_shnum == 0) return symbols;
    if (eh.e_shentsize != sizeof(Shdr))
        return input(fmt::format("section header size {}", eh.e_shentsize));
    uint64_t sh_bytes = uint64_t{eh.e_shnum} * sizeof(Shdr);
    if (!in_file(file, eh.e_shoff, sh_bytes)) return input("section headers outside the file");
    auto section = [&](uint64_t i) { return read_at<Shdr>(file, eh.e_shoff + i * sizeof(Shdr)); };

    for (uint64_t i = 0; i < eh.e_shnum; ++i) {
        Shdr sh = section(i);
        if (sh.sh_type != SHT_SYMTAB) continue;
        if (sh.sh_entsize != sizeof(Sym))
            return input(fmt::format("symbol entry size {}", uint64_t{sh.sh_entsize}));
        if (!in_file(file, sh.sh_offset, sh.sh_size)) return input("symbols outside the file");
        if (sh.sh_link >= eh.e_shnum) return input("symbol table links no string table");
        Shdr str = section(sh.sh_link);
        if (str.sh_type != SHT_STRTAB || !in_file(file, str.sh_offset, str.sh_size))
            return input("bad string table of the symbol table");
        auto strtab = file.subspan(str.sh_offset, str.sh_size);
        uint64_t count = sh.sh_size / sizeof(Sym);
        symbols.reserve(count);
        for (uint64_t k = 0; k < count; ++k) {
            auto sym = read_at<Sym>(file, sh.sh_offset + k * sizeof(Sym));
            unsigned type = sym.st_info & 0xf;   // ELF32_ST_TYPE and ELF64_ST_TYPE alike
            if ((type != STT_FUNC && type != STT_NOTYPE) || sym.st_shndx == SHN_UNDEF ||
                sym.st_shndx == SHN_ABS || sym.st_value == 0)
                continue;
            std::string name = name_at(strtab, sym.st_name);
            if (name.empty()) continue;
            symbols.push_back({sym.st_value, sym.st_size, std::move(name)});
        }
        break;   // one SHT_SYMTAB per file
    }
    return symbols;
}

} // namespace

Result<SymbolTable> SymbolTable::from_elf(std::span<const uint8_t> file) {
    if (file.size() < EI_NIDENT || std::memcmp(file.data(), ELFMAG, SELFMAG) != 0)
        return input(file.size() < EI_NIDENT ? "file shorter than an ELF header" : "not an ELF file");
    auto symbols = file[EI_CLASS] == ELFCLASS64 ? elf_symbols<Elf64_Ehdr, Elf64_Shdr, Elf64_Sym>(file)
                 : file[EI_CLASS] == ELFCLASS32 ? elf_symbols<Elf32_Ehdr, Elf32_Shdr, Elf32_Sym>(file)
                 : Result<std::vector<Symbol>>(input("unknown ELF class"));
    if (!symbols) return symbols.error();
    return SymbolTable(std::move(*symbols));
}

Result<SymbolTable> SymbolTable::from_system_map(std::string_view text) {
    std::vector<Symbol> symbols;
    size_t line_no = 0;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line_no;
        if (line.empty()) continue;
        // ADDRESS ' ' TYPE ' ' NAME
        size_t sp1 = line.find(' ');
        if (sp1 == std::string_view::npos || sp1 == 0 || sp1 > 16 || line.size() < sp1 + 4 ||
            line[sp1 + 2] != ' ')
            return input(fmt::format("System.map line {} is not 'ADDRESS TYPE NAME'", line_no));
        uint64_t address = 0;
        auto [end, ec] = std::from_chars(line.data(), line.data() + sp1, address, 16);
        if (ec != std::errc{} || end != line.data() + sp1)
            return input(fmt::format("System.map line {}: bad address", line_no));
        char type = line[sp1 + 1];
        std::string_view name = line.substr(sp1 + 3, MAX_NAME);
        if (name.empty()) return input(fmt::format("System.map line {}: no name", line_no));
        if (type == 't' || type == 'T' || type == 'w' || type == 'W')
            symbols.push_back({address, 0, std::string(name)});
    }
    return SymbolTable(std::move(symbols));
}

std::optional<std::string> SymbolTable::describe(uint64_t address) const {
    auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                               [](uint64_t a, const Symbol& s) { return a < s.address; });
    if (it == symbols_.begin()) return std::nullopt;
    // Among equal addresses prefer a sized symbol (a function over its alias label).
    auto best = std::prev(it);
    for (auto j = best; j->address == best->address; --j) {
        if (j->size > 0) { best = j; break; }
        if (j == symbols_.begin()) break;
    }
    uint64_t off = address - best->address;
    if (best->size > 0 ? off >= best->size : off >= MAX_UNSIZED_OFFSET) return std::nullopt;
    return off == 0 ? best->name : fmt::format("{}+{:#x}", best->name, off);
}

} // namespace minivmm
