#include "kvm/vcpu.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <sys/ioctl.h>

#include "kvm/kvm.hpp"
#include "kvm/kvm_list.hpp"

namespace minivmm {

namespace {
// The ioctl numbers encode the C size of struct kvm_cpuid2 and struct kvm_msrs (8); g++ gives
// 12 and 16 (see kvm_list.hpp), which KVM would not recognise (EINVAL).
constexpr unsigned long CPUID2_HEADER_SIZE = KvmList<kvm_cpuid_entry2>::HEADER_SIZE;
constexpr unsigned long MSRS_HEADER_SIZE = KvmList<kvm_msr_entry>::HEADER_SIZE;
constexpr unsigned long SET_MSRS = _IOC(_IOC_WRITE, KVMIO, 0x89, MSRS_HEADER_SIZE);
constexpr unsigned long GET_MSRS = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x88, MSRS_HEADER_SIZE);
constexpr unsigned long GET_SUPPORTED_CPUID =
    _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, CPUID2_HEADER_SIZE);
constexpr unsigned long SET_CPUID2 = _IOC(_IOC_WRITE, KVMIO, 0x90, CPUID2_HEADER_SIZE);
} // namespace

Result<VcpuExit> Vcpu::run() {
    if (::ioctl(fd_.get(), KVM_RUN, 0) < 0) {
        if (errno == EINTR || errno == EAGAIN) {
            VcpuExit e;
            e.reason = ExitReason::Interrupted;
            e.raw_reason = KVM_EXIT_INTR;
            return e;
        }
        return sys_error(ErrorCode::Host, fmt::format("KVM_RUN on vCPU {}", index_));
    }
    return decode_exit(*run_page());
}

void Vcpu::complete_read(std::span<const uint8_t> data) {
    kvm_run* run = run_page();
    if (run->exit_reason == KVM_EXIT_MMIO) {
        std::memcpy(run->mmio.data, data.data(), std::min(data.size(), sizeof run->mmio.data));
    } else if (run->exit_reason == KVM_EXIT_IO) {
        std::memcpy(reinterpret_cast<uint8_t*>(run) + run->io.data_offset, data.data(),
                    data.size());
    }
}

Result<kvm_regs> Vcpu::get_regs() const {
    kvm_regs regs{};
    if (::ioctl(fd_.get(), KVM_GET_REGS, &regs) < 0) return sys_error(ErrorCode::Host, "KVM_GET_REGS");
    return regs;
}

Result<void> Vcpu::set_regs(const kvm_regs& regs) {
    if (::ioctl(fd_.get(), KVM_SET_REGS, &regs) < 0) return sys_error(ErrorCode::Host, "KVM_SET_REGS");
    return {};
}

Result<kvm_sregs> Vcpu::get_sregs() const {
    kvm_sregs sregs{};
    if (::ioctl(fd_.get(), KVM_GET_SREGS, &sregs) < 0)
        return sys_error(ErrorCode::Host, "KVM_GET_SREGS");
    return sregs;
}

Result<kvm_translation> Vcpu::translate(uint64_t gva) const {
    kvm_translation t{};
    t.linear_address = gva;
    if (::ioctl(fd_.get(), KVM_TRANSLATE, &t) < 0)
        return sys_error(ErrorCode::Host, fmt::format("KVM_TRANSLATE {:#x}", gva));
    return t;
}

Result<void> Vcpu::set_sregs(const kvm_sregs& sregs) {
    if (::ioctl(fd_.get(), KVM_SET_SREGS, &sregs) < 0)
        return sys_error(ErrorCode::Host, "KVM_SET_SREGS");
    return {};
}

Result<std::vector<kvm_cpuid_entry2>> supported_cpuid(const Kvm& kvm) {
    constexpr uint32_t MAX_ENTRIES = 256;
    KvmList<kvm_cpuid_entry2> list(MAX_ENTRIES, MAX_ENTRIES);
    if (::ioctl(kvm.fd(), GET_SUPPORTED_CPUID, list.data()) < 0)
        return sys_error(ErrorCode::Host, "KVM_GET_SUPPORTED_CPUID");
    return list.entries();
}

Result<void> Vcpu::set_supported_cpuid(const Kvm& kvm) {
    auto entries = supported_cpuid(kvm);
    if (!entries) return entries.error();
    return set_cpuid(*entries);
}

Result<void> Vcpu::set_cpuid(const std::vector<kvm_cpuid_entry2>& entries) {
    KvmList<kvm_cpuid_entry2> list{std::span<const kvm_cpuid_entry2>(entries)};
    if (::ioctl(fd_.get(), SET_CPUID2, list.data()) < 0)
        return sys_error(ErrorCode::Host, "KVM_SET_CPUID2");
    return {};
}

Result<void> Vcpu::set_mp_state(uint32_t state) {
    kvm_mp_state mp{state};
    if (::ioctl(fd_.get(), KVM_SET_MP_STATE, &mp) < 0)
        return sys_error(ErrorCode::Host, fmt::format("KVM_SET_MP_STATE on vCPU {}", index_));
    return {};
}

Result<void> Vcpu::kvmclock_ctrl() {
    if (::ioctl(fd_.get(), KVM_KVMCLOCK_CTRL, 0) < 0)
        return sys_error(ErrorCode::Host, fmt::format("KVM_KVMCLOCK_CTRL on vCPU {}", index_));
    return {};
}

Result<uint32_t> Vcpu::get_mp_state() const {
    kvm_mp_state mp{};
    if (::ioctl(fd_.get(), KVM_GET_MP_STATE, &mp) < 0)
        return sys_error(ErrorCode::Host, fmt::format("KVM_GET_MP_STATE on vCPU {}", index_));
    return mp.mp_state;
}

Result<kvm_vcpu_events> Vcpu::get_vcpu_events() const {
    kvm_vcpu_events events{};
    if (::ioctl(fd_.get(), KVM_GET_VCPU_EVENTS, &events) < 0)
        return sys_error(ErrorCode::Host, fmt::format("KVM_GET_VCPU_EVENTS on vCPU {}", index_));
    return events;
}

Result<uint32_t> Vcpu::get_tsc_khz() const {
    int khz = ::ioctl(fd_.get(), KVM_GET_TSC_KHZ, 0);
    if (khz < 0) return sys_error(ErrorCode::Host, "KVM_GET_TSC_KHZ");
    return static_cast<uint32_t>(khz);
}

Result<void> Vcpu::set_msrs(const std::vector<kvm_msr_entry>& msrs) {
    KvmList<kvm_msr_entry> list{std::span<const kvm_msr_entry>(msrs)};
    int n = ::ioctl(fd_.get(), SET_MSRS, list.data());
    if (n < 0) return sys_error(ErrorCode::Host, "KVM_SET_MSRS");
    if (static_cast<size_t>(n) != msrs.size())
        return Error(ErrorCode::Host, fmt::format("KVM_SET_MSRS: MSR {:#x} was refused",
                                                  msrs[static_cast<size_t>(n)].index));
    return {};
}

Result<std::vector<kvm_msr_entry>> Vcpu::get_msrs(const std::vector<uint32_t>& indices) const {
    std::vector<kvm_msr_entry> msrs(indices.size());
    for (size_t i = 0; i < indices.size(); ++i) msrs[i].index = indices[i];
    KvmList<kvm_msr_entry> list{std::span<const kvm_msr_entry>(msrs)};
    int n = ::ioctl(fd_.get(), GET_MSRS, list.data());
    if (n < 0) return sys_error(ErrorCode::Host, "KVM_GET_MSRS");
    if (static_cast<size_t>(n) != indices.size())
        return Error(ErrorCode::Host, fmt::format("KVM_GET_MSRS: MSR {:#x} was refused",
                                                  indices[static_cast<size_t>(n)]));
    return list.entries();
}

Result<void> Vcpu::set_fpu(const kvm_fpu& fpu) {
    if (::ioctl(fd_.get(), KVM_SET_FPU, &fpu) < 0) return sys_error(ErrorCode::Host, "KVM_SET_FPU");
    return {};
}

Result<kvm_lapic_state> Vcpu::get_lapic() const {
    kvm_lapic_state lapic{};
    if (::ioctl(fd_.get(), KVM_GET_LAPIC, &lapic) < 0) return sys_error(ErrorCode::Host, "KVM_GET_LAPIC");
    return lapic;
}

Result<void> Vcpu::set_lapic(const kvm_lapic_state& lapic) {
    if (::ioctl(fd_.get(), KVM_SET_LAPIC, &lapic) < 0) return sys_error(ErrorCode::Host, "KVM_SET_LAPIC");
    return {};
}

Result<void> Vcpu::state_ioctl(unsigned long request, void* arg, const char* name) const {
    if (::ioctl(fd_.get(), request, arg) < 0) return sys_error(ErrorCode::Host, name);
    return {};
}

std::string Vcpu::dump_registers() const {
    auto regs = get_regs();
    auto sregs = get_sregs();
    if (!regs || !sregs) return "  (registers unavailable)\n";
    const kvm_regs& r = *regs;
    const kvm_sregs& s = *sregs;
    std::string out;
    out += fmt::format("  rip={:016x} rsp={:016x} rflags={:016x}\n", r.rip, r.rsp, r.rflags);
    out += fmt::format("  rax={:016x} rbx={:016x} rcx={:016x} rdx={:016x}\n", r.rax, r.rbx, r.rcx,
                       r.rdx);
    out += fmt::format("  rsi={:016x} rdi={:016x} rbp={:016x}\n", r.rsi, r.rdi, r.rbp);
    out += fmt::format("  r8={:016x} r9={:016x} r10={:016x} r11={:016x}\n", r.r8, r.r9, r.r10, r.r11);
    out += fmt::format("  r12={:016x} r13={:016x} r14={:016x} r15={:016x}\n", r.r12, r.r13, r.r14,
                       r.r15);
    out += fmt::format("  cs={:04x} (dpl {} l {} db {}) ss={:04x} ds={:04x}\n", s.cs.selector, s.cs.dpl,
                       s.cs.l, s.cs.db, s.ss.selector, s.ds.selector);
    out += fmt::format("  cr0={:016x} cr3={:016x} cr4={:016x} efer={:016x}\n", s.cr0, s.cr3, s.cr4,
                       s.efer);
    out += fmt::format("  gdt={:x}/{:x} idt={:x}/{:x}\n", s.gdt.base, s.gdt.limit, s.idt.base,
                       s.idt.limit);
    return out;
}

} // namespace minivmm
