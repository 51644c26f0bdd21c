// minivmm ctl SOCKET translate on a running Linux, checked against facts minivmm has no part
// in: the virtual address of the kernel's `_text` from vmlinux's own symbol table (the
// minimal kernel has no /proc/kallsyms: CONFIG_KALLSYMS is off), the physical start of
// "Kernel code" as the guest reports it in /proc/iomem (root's shell, so the addresses are
// real), and the first bytes of `_text` in the vmlinux file. The walk's GPA must be that
// physical start, KVM_TRANSLATE must agree, the bytes read through the HVA must be the file's,
// and the shell must answer afterwards. Needs a full Linux (VT-x/AMD-V, or tools/kvm-in-qemu).
#include <cstdio>
#include <cstring>
#include <elf.h>
#include <optional>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "linux_images.hpp"
#include "pty_process.hpp"
#include "run_process.hpp"
#include "temp_dir.hpp"
#include "wait_for_socket.hpp"

namespace {

using namespace minivmm::test;

// One byte as ctl prints the bytes read back: two hex digits, a space before all but the first.
std::string fmt_byte(uint8_t b, bool first) {
    char s[4];
    std::snprintf(s, sizeof s, "%s%02x", first ? "" : " ", b);
    return s;
}

struct KernelText {
    uint64_t vaddr = 0;
    std::string first_bytes;   // "xx xx ..." the 16 bytes at _text, as ctl prints them
};

// `_text` from an ELF64 vmlinux: its value in .symtab, its bytes through the PT_LOAD holding it.
std::optional<KernelText> kernel_text(const std::string& file) {
    const std::string elf = file_bytes(file);
    if (elf.size() < sizeof(Elf64_Ehdr)) return std::nullopt;
    Elf64_Ehdr eh;
    std::memcpy(&eh, elf.data(), sizeof eh);
    auto section = [&](size_t i) {
        Elf64_Shdr sh{};
        const size_t at = eh.e_shoff + i * sizeof(Elf64_Shdr);
        if (at + sizeof sh <= elf.size()) std::memcpy(&sh, elf.data() + at, sizeof sh);
        return sh;
    };
    KernelText t;
    for (size_t i = 0; i < eh.e_shnum && t.vaddr == 0; ++i) {
        const Elf64_Shdr symtab = section(i);
        if (symtab.sh_type != SHT_SYMTAB) continue;
        const Elf64_Shdr strtab = section(symtab.sh_link);
        for (size_t off = 0; off + sizeof(Elf64_Sym) <= symtab.sh_size; off += sizeof(Elf64_Sym)) {
            Elf64_Sym sym;
            if (symtab.sh_offset + off + sizeof sym > elf.size()) break;
            std::memcpy(&sym, elf.data() + symtab.sh_offset + off, sizeof sym);
            const size_t name = strtab.sh_offset + sym.st_name;
            if (name < elf.size() && std::strcmp(elf.c_str() + name, "_text") == 0) {
                t.vaddr = sym.st_value;
                break;
            }
        }
    }
    for (size_t i = 0; i < eh.e_phnum && t.vaddr != 0; ++i) {
        Elf64_Phdr ph;
        const size_t at = eh.e_phoff + i * sizeof ph;
        if (at + sizeof ph > elf.size()) break;
        std::memcpy(&ph, elf.data() + at, sizeof ph);
        if (ph.p_type != PT_LOAD || t.vaddr < ph.p_vaddr || t.vaddr + 16 > ph.p_vaddr + ph.p_filesz)
            continue;
        const size_t off = ph.p_offset + (t.vaddr - ph.p_vaddr);
        for (size_t b = 0; b < 16 && off + b < elf.size(); ++b)
            t.first_bytes += fmt_byte(static_cast<uint8_t>(elf[off + b]), b == 0);
    }
    if (t.vaddr == 0) return std::nullopt;
    return t;
}

TEST(LinuxGuestTranslate, KernelTextWalksToThePhysicalStartTheGuestReports) {
    REQUIRE_FULL_LINUX();
    auto text = kernel_text((images_dir() / "kernel/vmlinux").string());
    ASSERT_TRUE(text) << "no _text in " << (images_dir() / "kernel/vmlinux");
    TempDir dir("minivmm-linux-translate");
    const std::string sock = (dir.path / "api.sock").string();
    PtyProcess vm(linux_shell_with_api(sock));
    ASSERT_GT(vm.pid(), 0);
    ASSERT_TRUE(vm.wait_for_output("starting a shell", 240000)) << vm.output();
    ASSERT_TRUE(vm.wait_for_output("# ", 30000)) << vm.output();
    // "  01000000-01bfffff : Kernel code": the start, between markers the typed line lacks.
    ASSERT_TRUE(vm.type("set -- $(grep 'Kernel code' /proc/iomem); echo KCODE-${1%%-*}-END\r"));
    const std::regex answer("KCODE-([0-9a-f]+)-END");
    std::smatch m;
    std::string out;
    for (int waited = 0; waited < 60000 && !std::regex_search(out, m, answer); waited += 200) {
        vm.read_for(200);
        out = vm.output();
    }
    ASSERT_FALSE(m.empty()) << out;
    const uint64_t physical = std::stoull(m[1], nullptr, 16);
    ASSERT_NE(physical, 0u) << "root's /proc/iomem shows real addresses\n" << out;

    char gva[32];
    std::snprintf(gva, sizeof gva, "%#llx", static_cast<unsigned long long>(text->vaddr));
    auto t = run_process({MINIVMM_BINARY, "ctl", sock, "translate", gva}, 60);
    ASSERT_EQ(t.exit_code, 0) << t.err << vm.output();
    char gpa[64];
    std::snprintf(gpa, sizeof gpa, "\n  GPA %#llx (page offset ", static_cast<unsigned long long>(physical));
    EXPECT_NE(t.out.find(gpa), std::string::npos) << "expected" << gpa << "\n" << t.out;
    std::snprintf(gpa, sizeof gpa, "  KVM_TRANSLATE: GPA %#llx: agrees\n",
                  static_cast<unsigned long long>(physical));
    EXPECT_NE(t.out.find(gpa), std::string::npos) << t.out;
    EXPECT_NE(t.out.find("  read through the HVA: " + text->first_bytes + " \""), std::string::npos)
        << "vmlinux has " << text->first_bytes << " at _text\n" << t.out;
    EXPECT_NE(t.out.find("  memory slot 0: "), std::string::npos) << t.out;

    ASSERT_TRUE(vm.type("echo ALIVE-$((40+2))\r"));
    EXPECT_TRUE(vm.wait_for_output("ALIVE-42", 60000)) << vm.output();
    EXPECT_EQ(run_process({MINIVMM_BINARY, "ctl", sock, "stop"}, 30).exit_code, 0);
    EXPECT_EQ(vm.finish(60), 0) << vm.output();
    std::printf("%s", t.out.c_str());   // the walk, for the log
}

} // namespace
