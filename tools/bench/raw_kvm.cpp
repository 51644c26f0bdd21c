// raw_kvm: the physical limit for start-up and exit cost. It does only the ioctls a VM needs
// (create VM, one memslot, one vCPU with the host's CPUID, registers) and runs the same flat
// demo image with the same entry state as minivmm, ignoring every port but the exit port.
// It also runs a 32-bit PVH ELF (the PVH entry state: flat 32-bit segments, paging off, EBX =
// an hvm_start_info holding only the magic and CMDLINE), so the start-up benchmark runs the same
// guest binary under it as under minivmm and QEMU; bytes written to COM1 go to stdout.
// Usage: raw_kvm IMAGE.bin | raw_kvm GUEST.elf [CMDLINE]
//   (exit status = the byte the guest writes to port 0x510)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <elf.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace {
constexpr uint64_t MEM_SIZE = 16 << 20;
constexpr uint64_t LOAD_ADDR = 0x100000;
constexpr uint16_t EXIT_PORT = 0x510;
constexpr uint16_t COM1 = 0x3f8;
constexpr uint64_t START_INFO_ADDR = 0x6000, CMDLINE_ADDR = 0x7000;
constexpr uint32_t HVM_START_MAGIC = 0x336ec578;

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(200);
}
// Loads the PT_LOAD segments of the 32-bit ELF `file` (whole file in `image`) into `mem` and
// returns the XEN_ELFNOTE_PHYS32_ENTRY address of its PT_NOTE. Trusts the file: a bench tool.
uint32_t load_pvh_elf(const uint8_t* image, size_t size, uint8_t* mem) {
    auto* eh = reinterpret_cast<const Elf32_Ehdr*>(image);
    uint32_t entry = 0;
    for (unsigned i = 0; i < eh->e_phnum; ++i) {
        auto* ph = reinterpret_cast<const Elf32_Phdr*>(image + eh->e_phoff + i * eh->e_phentsize);
        if (ph->p_offset + ph->p_filesz > size) die("ELF segment past the end of the file");
        if (ph->p_type == PT_LOAD) {
            if (ph->p_paddr + ph->p_memsz > MEM_SIZE) die("ELF segment past guest RAM");
            std::memcpy(mem + ph->p_paddr, image + ph->p_offset, ph->p_filesz);
        }
        for (uint32_t off = 0; ph->p_type == PT_NOTE && off + 12 <= ph->p_filesz;) {
            auto* n = reinterpret_cast<const Elf32_Nhdr*>(image + ph->p_offset + off);
            uint32_t desc = off + 12 + ((n->n_namesz + 3) & ~3u);
            if (n->n_type == 18 && n->n_descsz >= 4)   // XEN_ELFNOTE_PHYS32_ENTRY
                std::memcpy(&entry, image + ph->p_offset + desc, 4);
            off = desc + ((n->n_descsz + 3) & ~3u);
        }
    }
    if (entry == 0) die("no PVH entry note in the ELF");
    return entry;
}
} // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: raw_kvm IMAGE.bin | raw_kvm GUEST.elf [CMDLINE]\n");
        return 200;
    }
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) die("/dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) die("KVM_CREATE_VM");
    void* mem = mmap(nullptr, MEM_SIZE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) die("mmap");
    int img = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (img < 0) die(argv[1]);
    auto* ram = static_cast<uint8_t*>(mem);
    ssize_t got = read(img, ram + LOAD_ADDR, 1 << 20);
    if (got <= 0) die("read image");
    close(img);
    uint64_t rip = LOAD_ADDR, rbx = 0;
    if (got >= 4 && std::memcmp(ram + LOAD_ADDR, ELFMAG, SELFMAG) == 0) {
        // The file was read to LOAD_ADDR; copy it away first: its segments land there too.
        static uint8_t file[1 << 20];
        std::memcpy(file, ram + LOAD_ADDR, static_cast<size_t>(got));
        std::memset(ram + LOAD_ADDR, 0, static_cast<size_t>(got));
        rip = load_pvh_elf(file, static_cast<size_t>(got), ram);
        uint32_t start_info[14] = {HVM_START_MAGIC, 1};   // magic, version, ..., cmdline_paddr
        start_info[6] = CMDLINE_ADDR;
        std::memcpy(ram + START_INFO_ADDR, start_info, sizeof start_info);
        if (argc == 3) std::strncpy(reinterpret_cast<char*>(ram + CMDLINE_ADDR), argv[2], 4095);
        rbx = START_INFO_ADDR;
    }
    kvm_userspace_memory_region region{0, 0, 0, MEM_SIZE, reinterpret_cast<uint64_t>(mem)};
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION");
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) die("KVM_CREATE_VCPU");
    // CPUID: 8-byte header size in the ioctl number (see vmm/kvm/vcpu.cpp for why).
    static uint64_t cpuid_storage[(8 + 256 * sizeof(kvm_cpuid_entry2)) / 8 + 1];
    auto* cpuid = reinterpret_cast<kvm_cpuid2*>(cpuid_storage);
    cpuid->nent = 256;
    if (ioctl(kvm, _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, 8), cpuid) < 0) die("GET_CPUID");
    if (ioctl(vcpu, _IOC(_IOC_WRITE, KVMIO, 0x90, 8), cpuid) < 0) die("SET_CPUID2");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    auto* run = static_cast<kvm_run*>(
        mmap(nullptr, static_cast<size_t>(run_size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0));
    if (run == MAP_FAILED) die("mmap kvm_run");
    kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) die("KVM_GET_SREGS");
    kvm_segment code{};
    code.limit = 0xffffffff;
    code.selector = 0x10;
    code.type = 0xb;
    code.present = 1;
    code.s = 1;
    code.db = 1;
    code.g = 1;
    kvm_segment data = code;
    data.selector = 0x18;
    data.type = 0x3;
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.cr0 = 0x11;
    sregs.cr4 = 0;
    sregs.efer = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) die("KVM_SET_SREGS");
    kvm_regs regs{};
    regs.rip = rip;
    regs.rbx = rbx;
    regs.rflags = 2;
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) die("KVM_SET_REGS");
    for (;;) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0) die("KVM_RUN");
        if (run->exit_reason == KVM_EXIT_IO) {
            auto* bytes = reinterpret_cast<uint8_t*>(run) + run->io.data_offset;
            if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == EXIT_PORT) return bytes[0];
            if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == COM1 &&
                write(1, bytes, 1) != 1)
                die("write");
            if (run->io.direction == KVM_EXIT_IO_IN) std::memset(bytes, 0xff, run->io.size);
            continue;
        }
        if (run->exit_reason == KVM_EXIT_MMIO || run->exit_reason == KVM_EXIT_HLT) continue;
        std::fprintf(stderr, "raw_kvm: exit reason %u\n", run->exit_reason);
        return 201;
    }
}
