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

// Whether the machine can be asked for a snapshot (it has an API socket): only then does the
// main thread, which writes snapshots, get snapshot_rules(): openat with exactly
// SNAPSHOT_CREATE_FLAGS (never a read, never O_PATH), pwrite64 and ftruncate on what it made.
enum class Snapshots : uint8_t { No, Yes };
std::span<const SyscallRule> snapshot_rules();
// The flags Machine::snapshot creates its two files with; the only ones its openat may carry.
constexpr int SNAPSHOT_CREATE_FLAGS = 01 /*O_WRONLY*/ | 0100 /*O_CREAT*/ | 01000 /*O_TRUNC*/ |
                                      02000000 /*O_CLOEXEC*/;

const char* thread_kind_name(ThreadKind kind);

} // namespace minivmm::sandbox
