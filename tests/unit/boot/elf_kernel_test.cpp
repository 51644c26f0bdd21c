// Tests of the ELF/PVH kernel parser and loader on synthetic ELF64 and ELF32 images.
#include "boot/elf_kernel.hpp"

#include <elf.h>
#include <gtest/gtest.h>

#include "loader_test_util.hpp"

#include <cstring>
#include <vector>

using namespace minivmm;

namespace {

constexpr uint64_t MiB = 1 << 20;
constexpr size_t NOTE_OFF = 0x100;
constexpr size_t DATA_OFF = 0x200;
constexpr uint64_t LOAD_PADDR = 0x200000;
constexpr uint32_t ENTRY = 0x200010;

template <typename T>
T get(const std::vector<uint8_t>& f, size_t off) {
    T v;
    std::memcpy(&v, f.data() + off, sizeof(T));
    return v;
}
template <typename T>
void put(std::vector<uint8_t>& f, size_t off, const T& v) {
    std::memcpy(f.data() + off, &v, sizeof(T));
}

// Header, two program headers (PT_LOAD of 0x100 file bytes + 0x200 bss at 2 MiB, PT_NOTE), a
// "GNU" note followed by the Xen PVH entry note with a `desc_size`-byte descriptor.
template <typename Ehdr, typename Phdr>
std::vector<uint8_t> make_elf(uint8_t cls, uint16_t machine, uint32_t desc_size = 8,
                              uint64_t entry = ENTRY) {
    std::vector<uint8_t> f(DATA_OFF + 0x100, 0);
    Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = cls;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = machine;
    eh.e_version = EV_CURRENT;
    eh.e_entry = 0x1000000;
    eh.e_phoff = sizeof(Ehdr);
    eh.e_ehsize = sizeof(Ehdr);
    eh.e_phentsize = sizeof(Phdr);
    eh.e_phnum = 2;
    put(f, 0, eh);

    size_t pos = NOTE_OFF;
    auto note = [&](const char* name, uint32_t type, uint32_t descsz, uint64_t value) {
        put(f, pos, Elf32_Nhdr{4, descsz, type});
        std::memcpy(f.data() + pos + 12, name, 4);
        std::memcpy(f.data() + pos + 16, &value, std::min<size_t>(descsz, 8));
        pos += 16 + ((descsz + 3) & ~3u);
    };
    note("GNU", NT_GNU_BUILD_ID, 4, 0x12345678);
    note("Xen", 18, desc_size, entry);

    Phdr load{};
    load.p_type = PT_LOAD;
    load.p_offset = DATA_OFF;
    load.p_filesz = 0x100;
    load.p_memsz = 0x300;
    load.p_paddr = LOAD_PADDR;
    load.p_vaddr = LOAD_PADDR;
    load.p_align = 0x1000;
    Phdr pnote{};
    pnote.p_type = PT_NOTE;
    pnote.p_offset = NOTE_OFF;
    pnote.p_filesz = static_cast<decltype(pnote.p_filesz)>(pos - NOTE_OFF);
    pnote.p_align = 4;
    put(f, sizeof(Ehdr), load);
    put(f, sizeof(Ehdr) + sizeof(Phdr), pnote);
    for (size_t i = DATA_OFF; i < f.size(); i++) f[i] = static_cast<uint8_t>(i * 5 + 3);
    return f;
}

std::vector<uint8_t> elf64(uint32_t desc_size = 8, uint64_t entry = ENTRY) {
    return make_elf<Elf64_Ehdr, Elf64_Phdr>(ELFCLASS64, EM_X86_64, desc_size, entry);
}

constexpr size_t PH0 = sizeof(Elf64_Ehdr);                       // the PT_LOAD
constexpr size_t PH1 = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);  // the PT_NOTE
constexpr size_t XEN_NOTE = NOTE_OFF + 20;                       // after the 20-byte GNU note

template <typename F>
std::vector<uint8_t> with_load(std::vector<uint8_t> f, F change) {
    auto ph = get<Elf64_Phdr>(f, PH0);
    change(ph);
    put(f, PH0, ph);
    return f;
}

using test::expect_input_error;
using test::ram;

} // namespace

TEST(ElfKernel, ParsesElf64WithPvhNote) {
    auto r = parse_elf_kernel(elf64());
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_TRUE(r->is_64bit);
    EXPECT_EQ(r->pvh_entry, ENTRY);
    EXPECT_EQ(r->e_entry, 0x1000000u);
    ASSERT_EQ(r->segments.size(), 1u);
    EXPECT_EQ(r->segments[0].offset, DATA_OFF);
    EXPECT_EQ(r->segments[0].filesz, 0x100u);
    EXPECT_EQ(r->segments[0].paddr, LOAD_PADDR);
    EXPECT_EQ(r->segments[0].memsz, 0x300u);
}

TEST(ElfKernel, ParsesElf32I386WithFourByteDescriptor) {
    auto f = make_elf<Elf32_Ehdr, Elf32_Phdr>(ELFCLASS32, EM_386, 4);
    auto r = parse_elf_kernel(f);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_FALSE(r->is_64bit);
    EXPECT_EQ(r->pvh_entry, ENTRY);
    ASSERT_EQ(r->segments.size(), 1u);
}

TEST(ElfKernel, RejectsBadMagicClassAndEndianness) {
    auto f = elf64();
    f[1] = 'X';
    expect_input_error(parse_elf_kernel(f), "magic");
    f = elf64();
    f[EI_CLASS] = 7;
    expect_input_error(parse_elf_kernel(f), "class");
    f = elf64();
    f[EI_DATA] = ELFDATA2MSB;
    expect_input_error(parse_elf_kernel(f), "endian");
    expect_input_error(parse_elf_kernel({}), "magic");
}

TEST(ElfKernel, RejectsWrongMachineAndType) {
    auto f = make_elf<Elf64_Ehdr, Elf64_Phdr>(ELFCLASS64, EM_386);
    expect_input_error(parse_elf_kernel(f), "e_machine");
    f = elf64();
    put<uint16_t>(f, offsetof(Elf64_Ehdr, e_type), ET_DYN);
    expect_input_error(parse_elf_kernel(f), "ET_EXEC");
}

TEST(ElfKernel, RejectsProgramHeaderTableOutsideFile) {
    auto f = elf64();
    put<uint64_t>(f, offsetof(Elf64_Ehdr, e_phoff), UINT64_MAX - 16);  // phoff + len wraps
    expect_input_error(parse_elf_kernel(f), "program headers");
    put<uint64_t>(f, offsetof(Elf64_Ehdr, e_phoff), f.size() - sizeof(Elf64_Phdr));
    expect_input_error(parse_elf_kernel(f), "program headers");
    f = elf64();
    put<uint16_t>(f, offsetof(Elf64_Ehdr, e_phnum), 0xfff0);
    expect_input_error(parse_elf_kernel(f), "program headers");
}

TEST(ElfKernel, RejectsBadPhentsizeAndPhnum) {
    auto f = elf64();
    put<uint16_t>(f, offsetof(Elf64_Ehdr, e_phentsize), 32);
    expect_input_error(parse_elf_kernel(f), "e_phentsize");
    f = elf64();
    put<uint16_t>(f, offsetof(Elf64_Ehdr, e_phnum), 0);
    expect_input_error(parse_elf_kernel(f), "e_phnum");
}

TEST(ElfKernel, RejectsSegmentOutsideFile) {
    expect_input_error(
        parse_elf_kernel(with_load(elf64(), [](Elf64_Phdr& p) { p.p_filesz = 0x101; })),
        "outside the file");
    expect_input_error(
        parse_elf_kernel(with_load(elf64(), [](Elf64_Phdr& p) { p.p_offset = UINT64_MAX; })),
        "outside the file");
}

TEST(ElfKernel, RejectsFileszGreaterThanMemsz) {
    auto f = with_load(elf64(), [](Elf64_Phdr& p) { p.p_memsz = 0x80; });
    expect_input_error(parse_elf_kernel(f), "p_filesz");
}

TEST(ElfKernel, RejectsSegmentWrappingAddressSpace) {
    auto f = with_load(elf64(), [](Elf64_Phdr& p) { p.p_paddr = UINT64_MAX - 0x100; });
    expect_input_error(parse_elf_kernel(f), "wraps");
}

TEST(ElfKernel, RejectsNoteWithHugeSizes) {
    auto f = elf64();
    put<uint32_t>(f, NOTE_OFF, 0xffffffff);  // GNU note namesz
    expect_input_error(parse_elf_kernel(f), "runs past");
    f = elf64();
    put<uint32_t>(f, XEN_NOTE + 4, 0xfffffffd);  // Xen note descsz
    expect_input_error(parse_elf_kernel(f), "runs past");
}

TEST(ElfKernel, RejectsTruncatedNoteHeader) {
    auto f = elf64();
    auto ph = get<Elf64_Phdr>(f, PH1);
    ph.p_filesz += 8;  // 8 trailing bytes: not room for another note header
    put(f, PH1, ph);
    expect_input_error(parse_elf_kernel(f), "truncated note");
}

TEST(ElfKernel, RejectsMissingPvhNote) {
    auto f = elf64();
    put<uint32_t>(f, XEN_NOTE + 8, 17);  // another Xen note type
    expect_input_error(parse_elf_kernel(f), "no PVH entry note");
    f = elf64();
    f[XEN_NOTE + 12] = 'x';  // "xen" is not "Xen"
    expect_input_error(parse_elf_kernel(f), "no PVH entry note");
}

TEST(ElfKernel, RejectsBadPvhDescriptor) {
    expect_input_error(parse_elf_kernel(elf64(6)), "6-byte descriptor");
    expect_input_error(parse_elf_kernel(elf64(8, 0x1'0020'0010)), "above 4 GiB");
    expect_input_error(parse_elf_kernel(elf64(8, 0x500000)), "not inside a PT_LOAD");
}

TEST(ElfKernel, RejectsImageWithoutLoadSegment) {
    auto f = with_load(elf64(), [](Elf64_Phdr& p) { p.p_type = PT_NULL; });
    expect_input_error(parse_elf_kernel(f), "no PT_LOAD");
}

TEST(ElfKernel, EveryTruncationIsAnInputError) {
    auto f = elf64();
    for (size_t n = 0; n < f.size(); n++) {
        auto r = parse_elf_kernel(std::span(f).first(n));
        ASSERT_FALSE(r.has_value()) << n;
        EXPECT_EQ(r.error().code(), ErrorCode::Input);
    }
}

TEST(ElfKernel, LoadsSegmentsAndZeroesBss) {
    auto f = elf64();
    auto mem = ram(4 * MiB);
    auto dirty = *mem.slice(GuestAddress(LOAD_PADDR), 0x400);
    std::fill(dirty.begin(), dirty.end(), uint8_t{0xcc});
    auto k = load_elf_kernel(mem, f, *parse_elf_kernel(f));
    ASSERT_TRUE(k.has_value()) << k.error().message();
    EXPECT_EQ(k->entry, GuestAddress(ENTRY));
    EXPECT_EQ(k->end, GuestAddress(LOAD_PADDR + 0x300));
    EXPECT_FALSE(k->header.has_value());
    EXPECT_TRUE(std::equal(dirty.begin(), dirty.begin() + 0x100, f.begin() + DATA_OFF));
    EXPECT_TRUE(std::all_of(dirty.begin() + 0x100, dirty.begin() + 0x300,
                            [](uint8_t b) { return b == 0; }));
    EXPECT_EQ(dirty[0x300], 0xcc);  // nothing past p_memsz
}

TEST(ElfKernel, RefusesSegmentBelowOneMiB) {
    auto f = with_load(elf64(8, 0xff010), [](Elf64_Phdr& p) { p.p_paddr = 0xff000; });
    auto k = load_elf_kernel(ram(4 * MiB), f, *parse_elf_kernel(f));
    ASSERT_FALSE(k.has_value());
    EXPECT_EQ(k.error().code(), ErrorCode::Input);
    EXPECT_NE(k.error().message().find("below 1 MiB"), std::string::npos);
}

TEST(ElfKernel, RefusesSegmentOutsideRam) {
    auto f = elf64();
    auto k = load_elf_kernel(ram(2 * MiB), f, *parse_elf_kernel(f));  // RAM ends at 2 MiB
    ASSERT_FALSE(k.has_value());
    EXPECT_NE(k.error().message().find("outside guest RAM"), std::string::npos);
    auto big = with_load(elf64(), [](Elf64_Phdr& p) { p.p_memsz = 64 * MiB; });
    k = load_elf_kernel(ram(4 * MiB), big, *parse_elf_kernel(big));
    ASSERT_FALSE(k.has_value());
    EXPECT_EQ(k.error().code(), ErrorCode::Input);
}

TEST(ElfKernel, RefusesStaleSegmentDescription) {
    auto f = elf64();
    auto kernel = *parse_elf_kernel(f);
    kernel.segments[0].filesz = 0x1000;
    auto k = load_elf_kernel(ram(4 * MiB), f, kernel);
    ASSERT_FALSE(k.has_value());
    EXPECT_EQ(k.error().code(), ErrorCode::Input);
}
