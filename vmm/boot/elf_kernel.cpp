// ELF/PVH kernel parser and loader. Everything read from the file is untrusted: each offset and
// size is checked against the file (overflow-proof: off <= size && len <= size - off).
#include "boot/elf_kernel.hpp"

#include "boot/file_bytes.hpp"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace minivmm {

namespace {

constexpr uint32_t XEN_ELFNOTE_PHYS32_ENTRY = 18;  // Xen public/elfnote.h
constexpr char XEN_NOTE_NAME[] = "Xen";            // namesz 4, NUL included

Error input(std::string what) { return Error(ErrorCode::Input, "ELF kernel: " + std::move(what)); }

uint64_t align_up(uint64_t v, uint64_t align) { return (v + align - 1) & ~(align - 1); }

// Walks the notes of one PT_NOTE segment; sets `entry` from the PVH note if there is one.
Result<void> parse_notes(std::span<const uint8_t> notes, uint64_t p_align, bool& found,
                         uint32_t& entry) {
    const uint64_t align = p_align == 8 ? 8 : 4;
    uint64_t pos = 0;
    while (pos < notes.size()) {
        uint64_t left = notes.size() - pos;
        if (left < sizeof(Elf32_Nhdr)) return input("truncated note header");
        auto nh = read_at<Elf32_Nhdr>(notes, pos);
        // namesz/descsz are 32-bit, so the aligned sizes cannot overflow 64 bits.
        uint64_t name_len = align_up(nh.n_namesz, align);
        uint64_t desc_len = align_up(nh.n_descsz, align);
        left -= sizeof(Elf32_Nhdr);
        if (name_len > left || desc_len > left - name_len)
            return input(fmt::format("note (namesz {}, descsz {}) runs past its segment",
                                     nh.n_namesz, nh.n_descsz));
        uint64_t name_off = pos + sizeof(Elf32_Nhdr);
        uint64_t desc_off = name_off + name_len;
        bool is_xen = nh.n_namesz == sizeof(XEN_NOTE_NAME) &&
                      std::memcmp(notes.data() + name_off, XEN_NOTE_NAME, nh.n_namesz) == 0;
        if (is_xen && nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && !found) {
            uint64_t value = 0;
            if (nh.n_descsz == 4) value = read_at<uint32_t>(notes, desc_off);
            else if (nh.n_descsz == 8) value = read_at<uint64_t>(notes, desc_off);
            else return input(fmt::format("PVH entry note has a {}-byte descriptor", nh.n_descsz));
            if (value > UINT32_MAX)
                return input(fmt::format("PVH entry {:#x} is above 4 GiB", value));
            entry = static_cast<uint32_t>(value);
            found = true;
        }
        pos = desc_off + desc_len;
    }
    return {};
}

struct Phdr {  // the fields we use, widened
    uint32_t type;
    uint64_t offset, filesz, paddr, memsz, align;
};

template <typename Ehdr, typename ElfPhdr>
Result<ElfKernel> parse_class(std::span<const uint8_t> file, uint16_t machine) {
    if (file.size() < sizeof(Ehdr)) return input("file is too small for an ELF header");
    auto eh = read_at<Ehdr>(file, 0);
    if (eh.e_machine != machine) return input(fmt::format("wrong e_machine {}", eh.e_machine));
    if (eh.e_type != ET_EXEC) return input(fmt::format("e_type {} is not ET_EXEC", eh.e_type));
    if (eh.e_phentsize != sizeof(ElfPhdr))
        return input(fmt::format("e_phentsize {} is not {}", eh.e_phentsize, sizeof(ElfPhdr)));
    if (eh.e_phnum == 0 || eh.e_phnum == PN_XNUM)
        return input(fmt::format("unsupported e_phnum {}", eh.e_phnum));
    uint64_t table_len = uint64_t{eh.e_phnum} * sizeof(ElfPhdr);  // < 2^32: no overflow
    if (!in_file(file, eh.e_phoff, table_len))
        return input(fmt::format("program headers at {:#x} run past the end of the file",
                                 uint64_t{eh.e_phoff}));

    ElfKernel k;
    k.is_64bit = sizeof(Ehdr) == sizeof(Elf64_Ehdr);
    k.e_entry = eh.e_entry;
    bool found = false;
    for (uint64_t i = 0; i < eh.e_phnum; i++) {
        auto raw = read_at<ElfPhdr>(file, eh.e_phoff + i * sizeof(ElfPhdr));
        Phdr ph{raw.p_type, raw.p_offset, raw.p_filesz, raw.p_paddr, raw.p_memsz, raw.p_align};
        if (ph.type != PT_LOAD && ph.type != PT_NOTE) continue;
        if (!in_file(file, ph.offset, ph.filesz))
            return input(fmt::format("segment {} ({:#x}+{:#x}) is outside the file", i, ph.offset,
                                     ph.filesz));
        if (ph.type == PT_NOTE) {
            MINIVMM_TRY(parse_notes(file.subspan(ph.offset, ph.filesz), ph.align, found,
                                    k.pvh_entry));
            continue;
        }
        if (ph.filesz > ph.memsz)
            return input(fmt::format("segment {} has p_filesz {:#x} > p_memsz {:#x}", i,
                                     ph.filesz, ph.memsz));
        if (ph.paddr > UINT64_MAX - ph.memsz)
            return input(fmt::format("segment {} at {:#x} wraps the address space", i, ph.paddr));
        k.segments.push_back({ph.offset, ph.filesz, ph.paddr, ph.memsz});
    }
    if (k.segments.empty()) return input("no PT_LOAD segment");
    if (!found) return input("no PVH entry note (Xen XEN_ELFNOTE_PHYS32_ENTRY)");
    bool entry_loaded = std::any_of(k.segments.begin(), k.segments.end(), [&](const ElfSegment& s) {
        return k.pvh_entry >= s.paddr && k.pvh_entry - s.paddr < s.memsz;
    });
    if (!entry_loaded)
        return input(fmt::format("PVH entry {:#x} is not inside a PT_LOAD segment", k.pvh_entry));
    return k;
}

} // namespace

Result<ElfKernel> parse_elf_kernel(std::span<const uint8_t> file) {
    if (file.size() < EI_NIDENT || std::memcmp(file.data(), ELFMAG, SELFMAG) != 0)
        return input("no ELF magic");
    if (file[EI_DATA] != ELFDATA2LSB) return input("not little-endian");
    if (file[EI_CLASS] == ELFCLASS64) return parse_class<Elf64_Ehdr, Elf64_Phdr>(file, EM_X86_64);
    if (file[EI_CLASS] == ELFCLASS32) return parse_class<Elf32_Ehdr, Elf32_Phdr>(file, EM_386);
    return input(fmt::format("unknown ELF class {}", file[EI_CLASS]));
}

Result<LoadedKernel> load_elf_kernel(const GuestMemory& mem, std::span<const uint8_t> file,
                                     const ElfKernel& kernel) {
    uint64_t end = KERNEL_LOAD_ADDR;
    for (const auto& s : kernel.segments) {
        if (!in_file(file, s.offset, s.filesz) || s.filesz > s.memsz)
            return input("segment description does not match the file");
        if (s.memsz == 0) continue;
        if (s.paddr < KERNEL_LOAD_ADDR)
            return input(fmt::format("segment at {:#x} is below 1 MiB", s.paddr));
        auto dst = mem.slice(GuestAddress(s.paddr), s.memsz);
        if (!dst)
            return input(fmt::format("segment {:#x}+{:#x} is outside guest RAM", s.paddr, s.memsz));
        if (s.filesz != 0) std::memcpy(dst->data(), file.data() + s.offset, s.filesz);
        std::memset(dst->data() + s.filesz, 0, s.memsz - s.filesz);  // bss
        end = std::max(end, s.paddr + s.memsz);
    }
    return LoadedKernel{GuestAddress(kernel.pvh_entry), GuestAddress(end), std::nullopt};
}

} // namespace minivmm
