// The seccomp allow-lists: one checked-in table of every system call minivmm's threads may make
// once the machine is built, which thread kinds may make it, on which argument, and why.
// Everything not in the table ends the process (seccomp_filter.hpp).
#pragma once

#include <cstdint>
#include <span>

namespace minivmm::sandbox {

// The kinds of threads, as bits so that one rule can name several.
enum ThreadKind : uint8_t {
    MAIN = 1,   // waits for the ending, kicks and joins the others, tears down
    VCPU = 2,   // KVM_RUN loop and exit dispatch to the device models
    IO = 4,     // the EventLoop (epoll): queue notifications, tap, stdin
    API = 8,    // --api-socket: the management API's server (vmm/api)
};
constexpr uint8_t ALL_THREADS = MAIN | VCPU | IO | API;
constexpr uint8_t VM_THREADS = MAIN | VCPU | IO;   // the threads of a Machine

// An optional condition on one argument of the call.
enum class ArgCheck : uint8_t {
    None,
    Equal,        // args[arg] == value
    MaskedZero,   // (args[arg] & value) == 0, e.g. no PROT_EXEC
};

struct SyscallRule {
    const char* syscall;   // the name libseccomp resolves ("ioctl", "epoll_wait")
    uint8_t threads;       // ThreadKind bits
    ArgCheck check;
    unsigned arg;          // argument index for the check
    uint64_t value;
    const char* reason;    // why the call is needed; never empty (tests/unit/sandbox)
};

// The whole table (seccomp_rules.cpp).
std::span<const SyscallRule> seccomp_rules();

// Whether the machine serves host directories (--share, virtio-9p): only then do the device
// threads get share_rules(), the file-system calls of the 9p server (openat2 among them).
enum class Sharing : uint8_t { None, HostDirectories };
std::span<const SyscallRule> share_rules();

const char* thread_kind_name(ThreadKind kind);

} // namespace minivmm::sandbox
