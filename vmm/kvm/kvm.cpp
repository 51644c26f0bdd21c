#include "kvm/kvm.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

namespace minivmm {

namespace {
struct RequiredCap {
    long cap;
    const char* name;
};
// What minivmm uses today; later devices add irqfd/ioeventfd here.
constexpr RequiredCap REQUIRED_CAPS[] = {
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
};
} // namespace

Result<Kvm> Kvm::open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT)
            return Error(ErrorCode::KvmUnusable,
                         fmt::format("Cannot open {}: no such device (is KVM enabled on this host? "
                                     "load kvm_intel, kvm_amd or kvm_pvm)",
                                     path));
        if (err == EACCES || err == EPERM)
            return Error(ErrorCode::KvmUnusable,
                         fmt::format("Cannot open {}: permission denied (add yourself to the kvm "
                                     "group: sudo usermod -aG kvm $USER, then log in again)",
                                     path));
        return Error(ErrorCode::KvmUnusable, fmt::format("Cannot open {}", path), err);
    }
    UniqueFd kvm(fd);
    int version = ::ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION)
        return Error(ErrorCode::KvmUnusable,
                     fmt::format("{}: KVM API version {} is not the supported {}", path, version,
                                 KVM_API_VERSION));
    for (const auto& c : REQUIRED_CAPS) {
        if (::ioctl(fd, KVM_CHECK_EXTENSION, c.cap) <= 0)
            return Error(ErrorCode::KvmUnusable,
                         fmt::format("{}: missing capability {}", path, c.name));
    }
    int mmap_size = ::ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (mmap_size < static_cast<int>(sizeof(kvm_run)))
        return Error(ErrorCode::KvmUnusable, fmt::format("{}: bad vCPU mmap size", path), errno);
    return Kvm(std::move(kvm), mmap_size);
}

Result<std::vector<uint32_t>> Kvm::msr_index_list() const {
    // kvm_msr_list's layout (u32 count, then the indices): KVM answers E2BIG with the count
    // when the room given is too small. Built by hand for the reason kvm_list.hpp gives.
    for (uint32_t room = 256; room <= 16384; room *= 4) {
        std::vector<uint32_t> list(1 + room);
        list[0] = room;
        if (::ioctl(fd_.get(), _IOWR(KVMIO, 0x02, uint32_t), list.data()) == 0) {
            const uint32_t n = std::min(list[0], room);
            return std::vector<uint32_t>(list.begin() + 1, list.begin() + 1 + n);
        }
        if (errno != E2BIG) return sys_error(ErrorCode::Host, "KVM_GET_MSR_INDEX_LIST");
    }
    return Error(ErrorCode::Host, "KVM_GET_MSR_INDEX_LIST: more than 16384 MSRs");
}

int Kvm::check_extension(long cap) const {
    int r = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, cap);
    return r < 0 ? 0 : r;
}

} // namespace minivmm
