// SeccompFilter: the compiled seccomp-BPF program for one thread kind, built from the table in
// seccomp_rules.hpp with libseccomp, and loaded by the thread itself once set-up is over.
// A call outside the list raises SIGSYS (SECCOMP_RET_TRAP); the handler installed by
// install_sigsys_handler() writes one fixed line and ends the process with SECCOMP_EXIT_CODE.
#pragma once

#include <cstddef>
#include <linux/filter.h>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "sandbox/seccomp_rules.hpp"

namespace minivmm::sandbox {

// The process exit code after a forbidden system call (as Firecracker's 148; README).
constexpr int SECCOMP_EXIT_CODE = 148;

// Whether minivmm confines its threads when neither --seccomp nor --no-seccomp is given: yes,
// except in ASan and TSan builds (tools/test), whose runtimes make system calls of their own
// that no allow-list has (LSan's leak check at exit alone clones a tracer that ptraces).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool SECCOMP_BY_DEFAULT = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool SECCOMP_BY_DEFAULT = false;
#else
constexpr bool SECCOMP_BY_DEFAULT = true;
#endif
#else
constexpr bool SECCOMP_BY_DEFAULT = true;
#endif

class SeccompFilter {
public:
    // Compiles the rules of `kind` (allow), everything else SECCOMP_RET_TRAP. Errors are
    // ErrorCode::Host (an unknown syscall name, libseccomp failing).
    // With Sharing::HostDirectories, the share_rules() too.
    // With Snapshots::Yes, the snapshot_rules() too (for the main thread only).
    static Result<SeccompFilter> build(ThreadKind kind, Sharing sharing = Sharing::None,
                                       Snapshots snapshots = Snapshots::No);

    // Loads the program into the calling thread (no_new_privs, then seccomp(2)); from now on
    // this thread and the threads it creates are confined. Makes no allocation, so it can run
    // on any thread at any point; after it, only the listed calls work.
    Result<void> load() const noexcept;

    ThreadKind kind() const { return kind_; }
    // Allowed system calls (distinct names) and BPF instructions, for the report and tests.
    size_t syscall_count() const { return syscalls_.size(); }
    const std::vector<std::string>& syscalls() const { return syscalls_; }
    size_t instruction_count() const { return program_.size(); }

private:
    SeccompFilter(ThreadKind kind) : kind_(kind) {}

    ThreadKind kind_;
    std::vector<sock_filter> program_;
    std::vector<std::string> syscalls_;   // sorted
};

// Installs the SIGSYS handler (process-wide; SIGSYS must stay unblocked in every thread, or the
// kernel falls back to the default action, a core dump). The handler writes
// "minivmm: error: seccomp: forbidden system call N (NAME) on a KIND thread (--no-seccomp
// disables the filters)" and _exit()s.
Result<void> install_sigsys_handler();

} // namespace minivmm::sandbox

namespace minivmm::sandbox {

// The three filters of a machine, compiled before any thread starts (--seccomp).
struct ThreadFilters {
    SeccompFilter main, vcpu, io;

    // Compiles the three and installs the SIGSYS handler.
    static Result<ThreadFilters> build(Sharing sharing = Sharing::None,
                                       Snapshots snapshots = Snapshots::No);
};

} // namespace minivmm::sandbox
