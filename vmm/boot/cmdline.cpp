// Kernel command line builder and initrd placement.
#include "boot/cmdline.hpp"

#include <algorithm>

namespace minivmm {

namespace {
constexpr uint64_t PAGE_SIZE = 4096;
}

Result<void> Cmdline::add(std::string_view param) {
    if (param.empty()) return Error(ErrorCode::Input, "Kernel command line: empty parameter");
    if (param.find('\0') != std::string_view::npos)
        return Error(ErrorCode::Input, "Kernel command line: parameter contains a NUL byte");
    uint64_t sep = line_.empty() ? 0 : 1;
    // Overflow-proof: line_.size() <= capacity_ always holds.
    if (param.size() > capacity_ - line_.size() ||
        sep > capacity_ - line_.size() - param.size())
        return Error(ErrorCode::Input,
                     fmt::format("Kernel command line would be longer than the kernel's {} bytes",
                                 capacity_));
    if (sep != 0) line_ += ' ';
    line_ += param;
    return {};
}

Result<void> Cmdline::add(std::string_view key, std::string_view value) {
    std::string param(key);
    param += '=';
    param += value;
    return add(param);
}

std::vector<uint8_t> Cmdline::bytes() const {
    std::vector<uint8_t> out(line_.begin(), line_.end());
    out.push_back(0);
    return out;
}

std::string virtio_mmio_device_param(uint64_t size, uint64_t base, uint32_t irq) {
    std::string sz;
    if (size != 0 && size % (1 << 20) == 0)
        sz = fmt::format("{}M", size >> 20);
    else if (size != 0 && size % (1 << 10) == 0)
        sz = fmt::format("{}K", size >> 10);
    else
        sz = fmt::format("{}", size);
    return fmt::format("virtio_mmio.device={}@{:#x}:{}", sz, base, irq);
}

bool has_kernel_param(std::string_view line, std::string_view word, ParamMatch match) {
    constexpr std::string_view SPACE = " \t\n\v\f\r";
    size_t pos = line.find_first_not_of(SPACE);
    while (pos != std::string_view::npos) {
        const size_t end = std::min(line.find_first_of(SPACE, pos), line.size());
        const std::string_view w = line.substr(pos, end - pos);
        if (w == "--") return false;
        if (match == ParamMatch::Whole ? w == word : w.starts_with(word)) return true;
        pos = line.find_first_not_of(SPACE, end);
    }
    return false;
}

Result<GuestAddress> place_initrd(GuestAddress ram_top, uint64_t initrd_addr_max, uint64_t size,
                                  GuestAddress kernel_end) {
    if (size == 0) return Error(ErrorCode::Input, "initrd is empty");
    // End limit (exclusive): initrd_addr_max is the address of the last byte allowed.
    uint64_t top = initrd_addr_max == UINT64_MAX ? UINT64_MAX : initrd_addr_max + 1;
    top = std::min(top, ram_top.value());
    uint64_t low = kernel_end.value();
    if (low > UINT64_MAX - (PAGE_SIZE - 1))
        return Error(ErrorCode::Input, "initrd does not fit above the kernel");
    low = (low + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    if (size > top || ((top - size) & ~(PAGE_SIZE - 1)) < low)
        return Error(ErrorCode::Input,
                     fmt::format("initrd of {:#x} bytes does not fit between the kernel end {:#x} "
                                 "and {:#x}",
                                 size, kernel_end.value(), top));
    return GuestAddress((top - size) & ~(PAGE_SIZE - 1));
}

} // namespace minivmm
