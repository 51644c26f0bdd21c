// SymbolTable: names from a synthetic ELF64 symbol table and from System.map text; every
// malformed input is an Input error.
#include "boot/symbols.hpp"

#include <elf.h>

#include <cstring>

#include <gtest/gtest.h>

#include "loader_test_util.hpp"

namespace minivmm {
namespace {

using test::expect_input_error;

struct SymSpec {
    const char* name;
    uint64_t value;
    uint64_t size;
    unsigned type;
    uint16_t shndx = 1;
};

// An ELF64 file: header, a .symtab and a .strtab with `syms`, and 4 section headers
// (null, a text section, .symtab, .strtab).
std::vector<uint8_t> elf_with_symbols(const std::vector<SymSpec>& syms) {
    std::string strtab(1, '\0');
    std::vector<Elf64_Sym> table(1);   // index 0: the null symbol
    for (const SymSpec& s : syms) {
        Elf64_Sym e{};
        e.st_name = static_cast<uint32_t>(strtab.size());
        strtab += s.name;
        strtab += '\0';
        e.st_value = s.value;
        e.st_size = s.size;
        e.st_info = static_cast<unsigned char>(ELF64_ST_INFO(STB_GLOBAL, s.type));
        e.st_shndx = s.shndx;
        table.push_back(e);
    }
    const uint64_t symoff = sizeof(Elf64_Ehdr);
    const uint64_t symsize = table.size() * sizeof(Elf64_Sym);
    const uint64_t stroff = symoff + symsize;
    const uint64_t shoff = (stroff + strtab.size() + 7) & ~uint64_t{7};
    std::vector<uint8_t> file(shoff + 4 * sizeof(Elf64_Shdr));
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_shoff = shoff;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 4;
    std::memcpy(file.data(), &eh, sizeof eh);
    std::memcpy(file.data() + symoff, table.data(), symsize);
    std::memcpy(file.data() + stroff, strtab.data(), strtab.size());
    Elf64_Shdr sh[4]{};
    sh[1].sh_type = SHT_PROGBITS;
    sh[2].sh_type = SHT_SYMTAB;
    sh[2].sh_offset = symoff;
    sh[2].sh_size = symsize;
    sh[2].sh_entsize = sizeof(Elf64_Sym);
    sh[2].sh_link = 3;
    sh[3].sh_type = SHT_STRTAB;
    sh[3].sh_offset = stroff;
    sh[3].sh_size = strtab.size();
    std::memcpy(file.data() + shoff, sh, sizeof sh);
    return file;
}

const std::vector<SymSpec> KERNEL_LIKE = {
    {"default_idle", 0xffffffff81a00000, 0x20, STT_FUNC},
    {"native_safe_halt", 0xffffffff81a00020, 0x10, STT_FUNC},
    {"entry_SYSCALL_64", 0xffffffff81c00000, 0, STT_NOTYPE},
    {"jiffies", 0xffffffff82000000, 8, STT_OBJECT},        // data: not kept
    {"undefined_thing", 0xffffffff81b00000, 4, STT_FUNC, SHN_UNDEF},
};

TEST(SymbolTable, NamesAddressesInsideFunctionsWithTheirOffset) {
    auto t = SymbolTable::from_elf(elf_with_symbols(KERNEL_LIKE));
    ASSERT_TRUE(t.has_value()) << t.error().message();
    EXPECT_EQ(t->size(), 3u);
    EXPECT_EQ(t->describe(0xffffffff81a00000), "default_idle");
    EXPECT_EQ(t->describe(0xffffffff81a00011), "default_idle+0x11");
    EXPECT_EQ(t->describe(0xffffffff81a00025), "native_safe_halt+0x5");
}

TEST(SymbolTable, LeavesAddressesOutsideEverySymbolUnnamed) {
    auto t = SymbolTable::from_elf(elf_with_symbols(KERNEL_LIKE));
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->describe(0x1000), std::nullopt);                  // below every symbol
    EXPECT_EQ(t->describe(0xffffffff81a00030), std::nullopt);      // past a sized function
    EXPECT_EQ(t->describe(0xffffffff81c00100), "entry_SYSCALL_64+0x100");   // unsized label
    EXPECT_EQ(t->describe(0xffffffff81c00000 + SymbolTable::MAX_UNSIZED_OFFSET), std::nullopt);
    EXPECT_EQ(t->describe(0xffffffff82000000), std::nullopt);      // a data object
}

TEST(SymbolTable, AnElfWithoutSymbolsGivesAnEmptyTable) {
    auto file = elf_with_symbols({});
    auto t = SymbolTable::from_elf(file);
    ASSERT_TRUE(t.has_value());
    EXPECT_TRUE(t->empty());
}

TEST(SymbolTable, RejectsMalformedElfTables) {
    auto good = elf_with_symbols(KERNEL_LIKE);
    expect_input_error(SymbolTable::from_elf(std::span(good).first(10)), "shorter");
    expect_input_error(SymbolTable::from_elf(std::span(good).first(40)), "shorter");
    auto bad_magic = good;
    bad_magic[1] = 'X';
    expect_input_error(SymbolTable::from_elf(bad_magic), "not an ELF");

    auto shoff = [&](std::vector<uint8_t>& f) {
        Elf64_Ehdr eh;
        std::memcpy(&eh, f.data(), sizeof eh);
        return eh.e_shoff;
    };
    auto patch_section = [&](std::vector<uint8_t> f, int index, auto change) {
        Elf64_Shdr sh;
        uint64_t at = shoff(f) + static_cast<uint64_t>(index) * sizeof(Elf64_Shdr);
        std::memcpy(&sh, f.data() + at, sizeof sh);
        change(sh);
        std::memcpy(f.data() + at, &sh, sizeof sh);
        return f;
    };
    expect_input_error(SymbolTable::from_elf(patch_section(good, 2, [](Elf64_Shdr& s) {
                           s.sh_size = ~uint64_t{0};
                       })), "outside the file");
    expect_input_error(SymbolTable::from_elf(patch_section(good, 2, [](Elf64_Shdr& s) {
                           s.sh_offset = ~uint64_t{0} - 4;
                       })), "outside the file");
    expect_input_error(SymbolTable::from_elf(patch_section(good, 2, [](Elf64_Shdr& s) {
                           s.sh_link = 99;
                       })), "string table");
    expect_input_error(SymbolTable::from_elf(patch_section(good, 2, [](Elf64_Shdr& s) {
                           s.sh_entsize = 7;
                       })), "entry size");
    expect_input_error(SymbolTable::from_elf(patch_section(good, 3, [](Elf64_Shdr& s) {
                           s.sh_size = 1u << 30;
                       })), "string table");
    auto many_sections = good;
    Elf64_Ehdr eh;
    std::memcpy(&eh, many_sections.data(), sizeof eh);
    eh.e_shnum = 0xffff;
    std::memcpy(many_sections.data(), &eh, sizeof eh);
    expect_input_error(SymbolTable::from_elf(many_sections), "section headers outside");
}

TEST(SymbolTable, NameOffsetsPastTheStringTableGiveNoName) {
    auto file = elf_with_symbols({{"f", 0x1000, 0x10, STT_FUNC}});
    // The one real symbol's name offset is 1; point it past the string table.
    Elf64_Ehdr eh;
    std::memcpy(&eh, file.data(), sizeof eh);
    Elf64_Sym sym;
    uint64_t at = sizeof(Elf64_Ehdr) + sizeof(Elf64_Sym);
    std::memcpy(&sym, file.data() + at, sizeof sym);
    sym.st_name = 0x7fffffff;
    std::memcpy(file.data() + at, &sym, sizeof sym);
    auto t = SymbolTable::from_elf(file);
    ASSERT_TRUE(t.has_value());
    EXPECT_TRUE(t->empty());
}

TEST(SymbolTable, ReadsTextSymbolsOfASystemMap) {
    auto t = SymbolTable::from_system_map(
        "ffffffff81000000 T _text\n"
        "ffffffff81a00000 T default_idle\n"
        "ffffffff81a00040 t local_helper\n"
        "ffffffff82000000 D jiffies\n"
        "\n"
        "ffffffff81b00000 W weak_one");
    ASSERT_TRUE(t.has_value()) << t.error().message();
    EXPECT_EQ(t->size(), 4u);
    EXPECT_EQ(t->describe(0xffffffff81a00011), "default_idle+0x11");
    EXPECT_EQ(t->describe(0xffffffff81a00041), "local_helper+0x1");
    EXPECT_EQ(t->describe(0xffffffff81b00000), "weak_one");
}

TEST(SymbolTable, RejectsSystemMapLinesOfAnotherShape) {
    expect_input_error(SymbolTable::from_system_map("hello world\n"), "line 1");
    expect_input_error(SymbolTable::from_system_map("ffffffff81000000 T _text\nzz T x\n"),
                       "line 2: bad address");
    expect_input_error(SymbolTable::from_system_map("ffffffff81000000 T \n"), "line 1");
    expect_input_error(SymbolTable::from_system_map("11111111111111111111 T x\n"), "line 1");
    expect_input_error(SymbolTable::from_system_map("ffffffff81000000 TT x\n"), "line 1");
}

TEST(SymbolTable, CutsVeryLongNames) {
    std::string map = "1000 T " + std::string(1000, 'a') + "\n";
    auto t = SymbolTable::from_system_map(map);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->describe(0x1000)->size(), SymbolTable::MAX_NAME);
}

} // namespace
} // namespace minivmm
