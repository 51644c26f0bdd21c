// Machine: booting a kernel. Step 1 loads the kernel and the initrd (and checks the user's
// inputs); step 4, after the devices exist, writes the guest's description of the machine:
// command line, ACPI tables, and boot_params (bzImage) or hvm_start_info (PVH).
#include <cstring>
#include <fstream>
#include <unistd.h>

#include "base/file.hpp"
#include "base/log.hpp"
#include "boot/bzimage.hpp"
#include "boot/cmdline.hpp"
#include "boot/elf_kernel.hpp"
#include "fdt.hpp"
#include "machine/guest_description.hpp"
#include "machine/machine.hpp"

namespace minivmm {

namespace {
bool is_elf(std::span<const uint8_t> f) {
    return f.size() >= 4 && f[0] == 0x7f && f[1] == 'E' && f[2] == 'L' && f[3] == 'F';
}
// The end of RAM below the 32-bit hole: the initrd must lie under it.
GuestAddress low_ram_top(const GuestMemory& mem) {
    return GuestAddress(std::min(mem.total_size(), layout::MMIO_HOLE_START));
}
} // namespace

Result<void> Machine::load_kernel() {
    auto file = read_file(*config_.kernel, "kernel");
    if (!file) return file.error();
    if (!config_.command.empty()) MINIVMM_TRY(check_runner_kernel(*file));
    MINIVMM_TRY(is_elf(*file) ? load_pvh_kernel(*file) : load_bzimage_kernel(*file));
    MINIVMM_TRY(load_symbols(*file));
    // The user's part of the command line must fit now; the device parameters are checked when
    // they are appended (describe_guest).
    if (kernel_cmdline().size() > cmdline_capacity_)
        return Error(ErrorCode::Usage, fmt::format("--cmdline is {} bytes, the limit is {}",
                                                   kernel_cmdline().size(), cmdline_capacity_));
    return {};
}

// Names for state reports: --system-map when given (an error in it is the user's to fix), else
// the symbol table of an ELF kernel (a malformed one only costs the names: a warning).
Result<void> Machine::load_symbols(std::span<const uint8_t> kernel_file) {
    if (config_.system_map) {
        auto text = read_file(*config_.system_map, "System.map");
        if (!text) return text.error();
        auto table = SymbolTable::from_system_map(
            std::string_view(reinterpret_cast<const char*>(text->data()), text->size()));
        if (!table) return table.error().with_context(*config_.system_map);
        symbols_ = std::move(*table);
    } else if (is_elf(kernel_file)) {
        auto table = SymbolTable::from_elf(kernel_file);
        if (table) symbols_ = std::move(*table);
        else log(LogLevel::Warn, "kernel {}: no symbol names in state reports: {}",
                 *config_.kernel, table.error().message());
    }
    return {};
}

Result<void> Machine::load_bzimage_kernel(std::span<const uint8_t> file) {
    auto info = parse_bzimage(file);
    if (!info) return info.error().with_context(fmt::format("Kernel {}", *config_.kernel));
    auto loaded = load_bzimage(memory_, file, *info);
    if (!loaded) return loaded.error().with_context(fmt::format("Kernel {}", *config_.kernel));
    entry_mode_ = EntryMode::Long64;
    entry_ = loaded->entry;
    kernel_end_ = loaded->end.value();
    setup_header_ = loaded->header;
    cmdline_capacity_ = std::min<uint64_t>(info->cmdline_size, layout::CMDLINE_MAX - 1);
    // A relocatable kernel decompresses itself to max(load address, pref_address) and needs
    // init_size bytes from there (arch/x86/boot/compressed/head_64.S): keep the initrd above it.
    uint64_t footprint_end = std::max(loaded->end.value(),
                                      info->pref_address + uint64_t{info->init_size});
    if (footprint_end > low_ram_top(memory_).value())
        return Error(ErrorCode::Input,
                     fmt::format("Kernel {} needs RAM up to {:#x} (pref_address + init_size), "
                                 "more than the guest has below 3 GiB",
                                 *config_.kernel, footprint_end));
    return load_initrd(info->initrd_addr_max, GuestAddress(footprint_end));
}

// A PVH ELF kernel (Xen docs/misc/pvh.pandoc): its segments now, its start info in step 4.
Result<void> Machine::load_pvh_kernel(std::span<const uint8_t> file) {
    auto elf = parse_elf_kernel(file);
    if (!elf) return elf.error().with_context(fmt::format("Kernel {}", *config_.kernel));
    auto loaded = load_elf_kernel(memory_, file, *elf);
    if (!loaded) return loaded.error().with_context(fmt::format("Kernel {}", *config_.kernel));
    entry_mode_ = EntryMode::Protected32;
    entry_ = loaded->entry;
    kernel_end_ = loaded->end.value();
    // PVH has no initrd_addr_max: anywhere in low RAM is reachable by the 32-bit entry.
    return load_initrd(layout::MMIO_HOLE_START - 1, loaded->end);
}

// --initrd: read straight into guest RAM at the highest page-aligned address below the
// kernel's initrd_addr_max and the end of low RAM, above the kernel. The runner's archive
// (-- CMD) follows it at the next multiple of 4 bytes, the gap zeroed: Linux unpacks
// concatenated archives, skips zeros between them and wants a cpio header 4-byte aligned.
Result<void> Machine::load_initrd(uint64_t initrd_addr_max, GuestAddress kernel_end) {
    if (!config_.initrd && runner_archive_.empty()) return {};
    const std::string path = config_.initrd ? *config_.initrd : "(the runner's archive)";
    std::optional<OpenedFile> file;
    uint64_t file_size = 0;
    if (config_.initrd) {
        auto opened = open_regular_file(path, "initrd");
        if (!opened) return opened.error();
        file_size = opened->size;
        file.emplace(std::move(*opened));
    }
    // (Without the runner's archive the initrd is the file exactly, its size unrounded.)
    const uint64_t archive_at =
        runner_archive_.empty() ? file_size : (file_size + 3) & ~uint64_t{3};
    const uint64_t total = archive_at + runner_archive_.size();
    if (total >= memory_.total_size())
        return Error(ErrorCode::Usage,
                     fmt::format("Initrd {} is {} bytes, more than the guest's {} bytes of RAM "
                                 "(raise --mem)",
                                 path, total, memory_.total_size()));
    auto addr = place_initrd(low_ram_top(memory_), initrd_addr_max, total, kernel_end);
    if (!addr)
        return Error(ErrorCode::Usage, fmt::format("Initrd {}: {} (raise --mem)", path,
                                                   addr.error().message()));
    auto dest = memory_.slice(*addr, total);
    if (!dest) return dest.error().with_context(fmt::format("Initrd {}", path));
    std::fill(dest->begin() + static_cast<ptrdiff_t>(file_size),
              dest->begin() + static_cast<ptrdiff_t>(archive_at), uint8_t{0});
    std::copy(runner_archive_.begin(), runner_archive_.end(),
              dest->begin() + static_cast<ptrdiff_t>(archive_at));
    initrd_addr_ = addr->value();
    initrd_size_ = total;
    if (!file) return {};
    uint64_t done = 0;
    while (done < file->size) {
        ssize_t n = ::pread(file->fd.get(), dest->data() + done, file->size - done,
                            static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return sys_error(ErrorCode::Input, fmt::format("Cannot read initrd {}", path));
        if (n == 0) return Error(ErrorCode::Input, fmt::format("Initrd {} shrank while read", path));
        done += static_cast<uint64_t>(n);
    }
    return {};
}

Result<void> Machine::describe_guest() {
    GuestDescription desc;
    desc.bzimage_header = setup_header_;
    desc.cmdline_capacity = cmdline_capacity_;
    desc.user_cmdline = kernel_cmdline();
    desc.num_vcpus = config_.cpus;
    desc.virtio_devices = plan_.virtio_mmio();
    desc.initrd_addr = initrd_addr_;
    desc.initrd_size = initrd_size_;
    auto entry_arg = write_guest_description(memory_, desc);
    if (!entry_arg) return entry_arg.error();
    entry_arg_ = entry_arg->value();
    return {};
}

Result<std::vector<uint8_t>> Machine::device_tree() const {
    firmware::FdtConfig fdt;
    fdt.ram_size = memory_.total_size();
    fdt.num_vcpus = config_.cpus;
    fdt.virtio_devices = plan_.virtio_mmio();
    return firmware::build_fdt(fdt);
}

// Only step 1 runs here (no /dev/kvm, no tap opened): the tree lists every virtio device of the
// plan, with the window and interrupt the guest would get.
Result<void> Machine::dump_device_tree(const MachineConfig& config) {
    auto m = prepare(config, nullptr);
    if (!m) return m.error();
    auto blob = (*m)->device_tree();
    if (!blob) return blob.error();
    const std::string& path = *config.dump_dtb;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (out) out.write(reinterpret_cast<const char*>(blob->data()), static_cast<std::streamsize>(blob->size()));
    out.close();
    if (!out)
        return Error(ErrorCode::Input, fmt::format("Cannot write the device tree to {}", path));
    return {};
}

} // namespace minivmm
