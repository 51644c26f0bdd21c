// Kvm: the /dev/kvm system handle. Opening it checks the API version and every capability
// minivmm relies on, so a host that cannot run us fails here with one clear line.
#pragma once

#include <string>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"

namespace minivmm {

class Kvm {
public:
    // Opens `path` (normally /dev/kvm). Errors (ErrorCode::KvmUnusable) name what is missing:
    // the device, the permission (with the fix), the API version or a capability.
    static Result<Kvm> open(const std::string& path = "/dev/kvm");

    int fd() const { return fd_.get(); }
    int vcpu_mmap_size() const { return vcpu_mmap_size_; }
    // KVM_CHECK_EXTENSION; 0 when absent.
    int check_extension(long cap) const;
    // KVM_GET_MSR_INDEX_LIST: the MSRs KVM saves and restores for a guest.
    Result<std::vector<uint32_t>> msr_index_list() const;

private:
    Kvm(UniqueFd fd, int mmap_size) : fd_(std::move(fd)), vcpu_mmap_size_(mmap_size) {}
    UniqueFd fd_;
    int vcpu_mmap_size_;
};

} // namespace minivmm
