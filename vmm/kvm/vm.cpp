#include "kvm/vm.hpp"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "kvm/gsi_routing.hpp"
#include "kvm/kvm_list.hpp"
#include "kvm/vcpu.hpp"

namespace minivmm {

namespace {
// The number encodes C's size of struct kvm_irq_routing's header (8); see kvm_list.hpp.
constexpr unsigned long SET_GSI_ROUTING = _IOC(_IOC_WRITE, KVMIO, 0x6a, KvmList<kvm_irq_routing_entry>::HEADER_SIZE);
} // namespace

Result<Vm> Vm::create(const Kvm& kvm) {
    int fd;
    do {
        fd = ::ioctl(kvm.fd(), KVM_CREATE_VM, 0);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return sys_error(ErrorCode::KvmUnusable, "KVM_CREATE_VM");
    return Vm(UniqueFd(fd));
}

Result<void> Vm::map_memory(const GuestMemory& memory) {
    uint32_t slot = 0;
    for (const auto& r : memory.regions()) {
        kvm_userspace_memory_region region{};
        region.slot = slot++;
        region.guest_phys_addr = r.base.value();
        region.memory_size = r.size;
        region.userspace_addr = reinterpret_cast<uint64_t>(r.host);
        if (::ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0)
            return sys_error(ErrorCode::Host,
                             fmt::format("KVM_SET_USER_MEMORY_REGION {:#x}+{:#x}",
                                         r.base.value(), r.size));
        slots_.push_back({region.slot, region.guest_phys_addr, region.memory_size,
                          region.userspace_addr, (region.flags & KVM_MEM_READONLY) != 0,
                          (region.flags & KVM_MEM_LOG_DIRTY_PAGES) != 0});
    }
    return {};
}

Result<void> Vm::create_irqchip_and_pit() {
    if (::ioctl(fd_.get(), KVM_CREATE_IRQCHIP, 0) < 0)
        return sys_error(ErrorCode::KvmUnusable, "KVM_CREATE_IRQCHIP");
    // The PIT raises GSI 0; a PC wires it to IOAPIC pin 2 (gsi_routing.hpp).
    const auto routes = pc_gsi_routing();
    KvmList<kvm_irq_routing_entry> routing{std::span<const kvm_irq_routing_entry>(routes)};
    if (::ioctl(fd_.get(), SET_GSI_ROUTING, routing.data()) < 0)
        return sys_error(ErrorCode::KvmUnusable, "KVM_SET_GSI_ROUTING");
    kvm_pit_config pit{};
    pit.flags = KVM_PIT_SPEAKER_DUMMY;
    if (::ioctl(fd_.get(), KVM_CREATE_PIT2, &pit) < 0)
        return sys_error(ErrorCode::KvmUnusable, "KVM_CREATE_PIT2");
    return {};
}

Result<void> Vm::state_ioctl(unsigned long request, void* arg, const char* name) const {
    if (::ioctl(fd_.get(), request, arg) < 0) return sys_error(ErrorCode::Host, name);
    return {};
}

Result<void> Vm::register_irqfd(int eventfd, uint32_t gsi) {
    kvm_irqfd irqfd{};
    irqfd.fd = static_cast<uint32_t>(eventfd);
    irqfd.gsi = gsi;
    if (::ioctl(fd_.get(), KVM_IRQFD, &irqfd) < 0)
        return sys_error(ErrorCode::Host, fmt::format("KVM_IRQFD gsi {}", gsi));
    return {};
}

Result<void> Vm::register_ioeventfd(int eventfd, uint64_t addr, uint32_t len,
                                    std::optional<uint64_t> datamatch) {
    kvm_ioeventfd io{};
    io.addr = addr;
    io.len = len;
    io.fd = eventfd;
    if (datamatch) {
        io.datamatch = *datamatch;
        io.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
    }
    if (::ioctl(fd_.get(), KVM_IOEVENTFD, &io) < 0)
        return sys_error(ErrorCode::Host, fmt::format("KVM_IOEVENTFD at {:#x}", addr));
    return {};
}

Result<void> Vm::set_irq_line(uint32_t gsi, bool high) {
    kvm_irq_level level{};
    level.irq = gsi;
    level.level = high ? 1 : 0;
    if (::ioctl(fd_.get(), KVM_IRQ_LINE, &level) < 0)
        return sys_error(ErrorCode::Host, fmt::format("KVM_IRQ_LINE gsi {}", gsi));
    return {};
}

Result<Vcpu> Vm::create_vcpu(const Kvm& kvm, uint32_t index) {
    int fd = ::ioctl(fd_.get(), KVM_CREATE_VCPU, static_cast<unsigned long>(index));
    if (fd < 0) return sys_error(ErrorCode::Host, fmt::format("KVM_CREATE_VCPU {}", index));
    UniqueFd vcpu_fd(fd);
    auto run = Mapping::shared(fd, static_cast<size_t>(kvm.vcpu_mmap_size()));
    if (!run) return run.error().with_context(fmt::format("vCPU {} kvm_run", index));
    return Vcpu(index, std::move(vcpu_fd), std::move(*run));
}

} // namespace minivmm
