// Compiles the allow-list with libseccomp into a BPF program and loads it per thread.
#include "sandbox/seccomp_filter.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <linux/seccomp.h>
#include <malloc.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/terminal_guard.hpp"
#include "base/unique_fd.hpp"

namespace minivmm::sandbox {

namespace {

// The kind of the calling thread once it loaded a filter, for the SIGSYS message. Static TLS,
// read in the signal handler.
thread_local ThreadKind loaded_kind = static_cast<ThreadKind>(0);

// System call names by number, resolved by install_sigsys_handler() (libseccomp allocates)
// so that the handler only reads them. Never freed: the handler may run at any time.
constexpr long MAX_NAMED_SYSCALL = 512;
const char* syscall_names[MAX_NAMED_SYSCALL] = {};

// malloc's arena limit under the filters (ThreadFilters::build): glibc's own count of arenas
// before it looks the CPU count up.
constexpr int MALLOC_ARENAS = 8;

struct Context {
    scmp_filter_ctx ctx;
    ~Context() { seccomp_release(ctx); }
};

Error lib_error(const std::string& what, int rc) { return Error(ErrorCode::Host, what, -rc); }

// Async-signal-safe: appends the decimal `value` to `out`.
size_t append_number(char* out, size_t pos, long value) {
    char digits[24];
    size_t n = 0;
    unsigned long v = value < 0 ? 0UL - static_cast<unsigned long>(value) : static_cast<unsigned long>(value);
    do {
        digits[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0 && n < sizeof digits);
    if (value < 0) out[pos++] = '-';
    while (n > 0) out[pos++] = digits[--n];
    return pos;
}

size_t append(char* out, size_t pos, const char* text) {
    size_t len = std::strlen(text);
    std::memcpy(out + pos, text, len);
    return pos + len;
}

void sigsys_handler(int, siginfo_t* info, void*) {
    // Only async-signal-safe work: the terminal back (tcsetattr), fixed text, a number,
    // write(2), _exit(2).
    minivmm::TerminalGuard::restore_now();
    char line[192];
    size_t n = append(line, 0, "minivmm: error: seccomp: forbidden system call ");
    n = append_number(line, n, info->si_syscall);
    if (info->si_syscall >= 0 && info->si_syscall < MAX_NAMED_SYSCALL &&
        syscall_names[info->si_syscall] != nullptr) {
        n = append(line, n, " (");
        n = append(line, n, syscall_names[info->si_syscall]);
        n = append(line, n, ")");
    }
    n = append(line, n, " on a ");
    n = append(line, n, loaded_kind ? thread_kind_name(loaded_kind) : "unconfined");
    n = append(line, n, " thread (--no-seccomp disables the filters)\n");
    [[maybe_unused]] ssize_t w = ::write(STDERR_FILENO, line, n);
    ::_exit(SECCOMP_EXIT_CODE);
}

Result<void> add_rule(scmp_filter_ctx ctx, const SyscallRule& rule) {
    int nr = seccomp_syscall_resolve_name(rule.syscall);
    if (nr == __NR_SCMP_ERROR)
        return Error(ErrorCode::Host, fmt::format("seccomp: unknown system call {}", rule.syscall));
    int rc = 0;
    if (rule.check == ArgCheck::None) {
        rc = seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, nr, 0);
    } else {
        // Equal: arg == value. MaskedZero: (arg & value) == 0.
        scmp_arg_cmp cmp{};
        cmp.arg = rule.arg;
        cmp.op = rule.check == ArgCheck::Equal ? SCMP_CMP_EQ : SCMP_CMP_MASKED_EQ;
        cmp.datum_a = rule.value;
        cmp.datum_b = 0;
        rc = seccomp_rule_add_exact_array(ctx, SCMP_ACT_ALLOW, nr, 1, &cmp);
    }
    if (rc < 0) return lib_error(fmt::format("seccomp: rule for {}", rule.syscall), rc);
    return {};
}

} // namespace

Result<SeccompFilter> SeccompFilter::build(ThreadKind kind, Sharing sharing,
                                           Snapshots snapshots) {
    Context c{seccomp_init(SCMP_ACT_TRAP)};
    if (c.ctx == nullptr) return Error(ErrorCode::Host, "seccomp_init failed");
    // We set no_new_privs ourselves in load(), right before seccomp(2).
    int rc = seccomp_attr_set(c.ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (rc < 0) return lib_error("seccomp_attr_set", rc);
    SeccompFilter filter(kind);
    const std::span<const SyscallRule> none;
    for (auto rules : {seccomp_rules(), sharing == Sharing::HostDirectories ? share_rules() : none,
                       snapshots == Snapshots::Yes ? snapshot_rules() : none}) {
        for (const auto& rule : rules) {
            if ((rule.threads & kind) == 0) continue;
            MINIVMM_TRY(add_rule(c.ctx, rule));
            filter.syscalls_.emplace_back(rule.syscall);
        }
    }
    std::sort(filter.syscalls_.begin(), filter.syscalls_.end());
    filter.syscalls_.erase(std::unique(filter.syscalls_.begin(), filter.syscalls_.end()),
                           filter.syscalls_.end());

    // libseccomp 2.5 exports BPF only to a file descriptor: use a memfd and read it back.
    UniqueFd mem(::memfd_create("minivmm-seccomp", MFD_CLOEXEC));
    if (!mem.valid()) return sys_error(ErrorCode::Host, "memfd_create");
    rc = seccomp_export_bpf(c.ctx, mem.get());
    if (rc < 0) return lib_error("seccomp_export_bpf", rc);
    off_t size = ::lseek(mem.get(), 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
        return Error(ErrorCode::Host, "seccomp: bad BPF program size");
    filter.program_.resize(static_cast<size_t>(size) / sizeof(sock_filter));
    if (::pread(mem.get(), filter.program_.data(), static_cast<size_t>(size), 0) != size)
        return sys_error(ErrorCode::Host, "seccomp: reading the BPF program");
    return filter;
}

Result<void> SeccompFilter::load() const noexcept {
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(program_.size());
    prog.filter = const_cast<sock_filter*>(program_.data());
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return sys_error(ErrorCode::Host, "prctl(PR_SET_NO_NEW_PRIVS)");
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return sys_error(ErrorCode::Host, "seccomp(SECCOMP_SET_MODE_FILTER)");
    loaded_kind = kind_;
    return {};
}

Result<void> install_sigsys_handler() {
    for (int nr = 0; nr < MAX_NAMED_SYSCALL; ++nr)
        if (syscall_names[nr] == nullptr)
            syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    struct sigaction sa {};
    sa.sa_sigaction = sigsys_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (::sigaction(SIGSYS, &sa, nullptr) < 0) return sys_error(ErrorCode::Host, "sigaction(SIGSYS)");
    sigset_t sys;
    sigemptyset(&sys);
    sigaddset(&sys, SIGSYS);
    pthread_sigmask(SIG_UNBLOCK, &sys, nullptr);
    return {};
}

} // namespace minivmm::sandbox

namespace minivmm::sandbox {

Result<ThreadFilters> ThreadFilters::build(Sharing sharing, Snapshots snapshots) {
    auto main = SeccompFilter::build(MAIN, Sharing::None, snapshots);
    if (!main) return main.error();
    auto vcpu = SeccompFilter::build(VCPU, sharing);
    if (!vcpu) return vcpu.error();
    auto io = SeccompFilter::build(IO, sharing);
    if (!io) return io.error();
    // glibc's malloc gives each new thread an arena of its own up to eight, then sizes its
    // limit from the CPU count, which it reads from /sys/devices/system/cpu/online: an openat no
    // filter allows (minivmm with 8 vCPUs was once ended that way on its I/O thread). With the
    // limit given, it never reads it; threads past it share the arenas. (Where malloc is not
    // glibc's, in the sanitizers' builds, mallopt refuses the setting; their allocators have no
    // such lookup.)
    (void)::mallopt(M_ARENA_MAX, MALLOC_ARENAS);
    MINIVMM_TRY(install_sigsys_handler());
    return ThreadFilters{std::move(*main), std::move(*vcpu), std::move(*io)};
}

} // namespace minivmm::sandbox
