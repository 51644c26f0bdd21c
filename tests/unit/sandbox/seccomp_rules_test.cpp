// The allow-list table is what we think it is. Every rule has a reason, compiles, and the
// calls each thread kind may make match the lists below, so a change to the table is deliberate.
#include "sandbox/seccomp_rules.hpp"

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <linux/kvm.h>
#include <optional>
#include <set>
#include <string>
#include <sys/mman.h>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "sandbox/seccomp_filter.hpp"

namespace minivmm::sandbox {
namespace {

const std::vector<std::string> COMMON = {
    "brk",          "clock_gettime", "close",  "epoll_ctl", "exit",          "exit_group",
    "fstat",        "futex",         "getpid", "gettid",    "ioctl",         "madvise",
    "mmap",         "mprotect",      "mremap", "munmap",    "newfstatat",    "read",
    "poll",         "ppoll",         "restart_syscall", "rt_sigaction", "rt_sigprocmask",
    "rt_sigreturn", "sendto",        "sigaltstack", "tgkill", "write"};

std::vector<std::string> sorted(std::vector<std::string> v, std::vector<std::string> extra) {
    v.insert(v.end(), extra.begin(), extra.end());
    std::sort(v.begin(), v.end());
    return v;
}

TEST(SeccompRules, EveryRuleHasAReasonAndAThreadKind) {
    for (const auto& r : seccomp_rules()) {
        ASSERT_NE(r.syscall, nullptr);
        ASSERT_NE(r.reason, nullptr) << r.syscall;
        EXPECT_GE(std::strlen(r.reason), 10u) << r.syscall << ": say why the call is needed";
        EXPECT_NE(r.threads, 0) << r.syscall;
        EXPECT_EQ(r.threads & ~ALL_THREADS, 0) << r.syscall;
        if (r.check != ArgCheck::None) {
            EXPECT_LT(r.arg, 6u) << r.syscall;
        }
    }
}

TEST(SeccompRules, NoRuleIsRepeated) {
    std::set<std::tuple<std::string, int, unsigned, uint64_t>> seen;
    for (const auto& r : seccomp_rules())
        EXPECT_TRUE(seen.insert({r.syscall, static_cast<int>(r.check), r.arg, r.value}).second)
            << r.syscall << " " << r.value;
}

TEST(SeccompRules, DangerousCallsAreNeverAllowed) {
    for (const auto& r : seccomp_rules()) {
        for (const char* bad : {"execve", "execveat", "fork", "vfork", "clone", "clone3", "socket",
                                "connect", "open", "openat", "openat2", "ptrace", "kill",
                                "process_vm_writev", "memfd_create", "mount", "setuid"})
            EXPECT_STRNE(r.syscall, bad);
        // Guest RAM is never executable: no executable mapping can be made or changed to.
        if (std::strcmp(r.syscall, "mmap") == 0 || std::strcmp(r.syscall, "mprotect") == 0) {
            EXPECT_EQ(r.check, ArgCheck::MaskedZero);
            EXPECT_EQ(r.arg, 2u);
            EXPECT_EQ(r.value, static_cast<uint64_t>(PROT_EXEC));
        }
        // ioctl only with named requests; tgkill only with named signals.
        if (std::strcmp(r.syscall, "ioctl") == 0 || std::strcmp(r.syscall, "tgkill") == 0) {
            EXPECT_EQ(r.check, ArgCheck::Equal) << r.syscall << " without an argument check";
        }
    }
}

TEST(SeccompRules, EachThreadKindAllowsExactlyItsList) {
    struct Expected {
        ThreadKind kind;
        std::vector<std::string> syscalls;
    };
    const Expected expected[] = {
        {MAIN, sorted(COMMON, {"clock_nanosleep", "fdatasync", "nanosleep", "timerfd_settime"})},
        {VCPU, sorted(COMMON, {"accept4", "fallocate", "fdatasync", "getrandom", "io_uring_enter", "pread64",
                               "pwrite64", "recvfrom", "sendmsg", "timerfd_settime", "writev"})},
        {IO, sorted(COMMON, {"accept4", "epoll_pwait", "epoll_wait", "fallocate", "fdatasync", "getrandom",
                             "io_uring_enter", "pread64", "pwrite64", "recvfrom", "sendmsg", "timerfd_settime",
                             "writev"})},
        {API, sorted(COMMON, {"accept4", "unlink"})},
    };
    for (const auto& e : expected) {
        auto filter = SeccompFilter::build(e.kind);
        ASSERT_TRUE(filter) << filter.error().message();
        EXPECT_EQ(filter->syscalls(), e.syscalls) << thread_kind_name(e.kind);
        EXPECT_GT(filter->instruction_count(), filter->syscall_count());
        size_t rules = static_cast<size_t>(
            std::count_if(seccomp_rules().begin(), seccomp_rules().end(),
                          [&](const SyscallRule& r) { return (r.threads & e.kind) != 0; }));
        std::printf("allow-list %s: %zu system calls, %zu rules, %zu BPF instructions\n",
                    thread_kind_name(e.kind), filter->syscall_count(), rules,
                    filter->instruction_count());
    }
}

// The 9p server's file-system calls (openat2 among them) reach the device threads only in a
// machine that shares host directories; the main thread never gets them.
TEST(SeccompRules, ShareRulesAreAddedOnlyForSharesAndOnlyToTheDeviceThreads) {
    const std::vector<std::string> share = {
        "fchmod",   "fchmodat", "fchownat", "fstatfs",   "fsync",     "ftruncate", "getdents64",
        "linkat",   "lseek",    "mkdirat",   "mknodat",   "openat2",   "readlinkat",
        "renameat", "renameat2", "symlinkat", "unlinkat", "utimensat"};
    for (ThreadKind kind : {VCPU, IO}) {
        auto plain = SeccompFilter::build(kind);
        auto sharing = SeccompFilter::build(kind, Sharing::HostDirectories);
        ASSERT_TRUE(plain && sharing);
        EXPECT_EQ(sharing->syscalls(), sorted(plain->syscalls(), share)) << thread_kind_name(kind);
    }
    auto main = SeccompFilter::build(MAIN, Sharing::HostDirectories);
    ASSERT_TRUE(main);
    EXPECT_EQ(main->syscalls(), SeccompFilter::build(MAIN)->syscalls());
    for (const auto& r : share_rules()) {
        EXPECT_GE(std::strlen(r.reason), 10u) << r.syscall;
        EXPECT_EQ(r.threads, VCPU | IO) << r.syscall;
        for (const char* bad : {"execve", "open", "openat", "socket", "ptrace", "mount"})
            EXPECT_STRNE(r.syscall, bad);
    }
}

// A machine with an API socket can be asked for a snapshot: only then, and only on the main
// thread, may openat run, and only with the flags that create a file to write (never a read).
TEST(SeccompRules, SnapshotRulesOpenOnlyToCreateAndOnlyOnTheMainThread) {
    auto plain = SeccompFilter::build(MAIN);
    auto snap = SeccompFilter::build(MAIN, Sharing::None, Snapshots::Yes);
    ASSERT_TRUE(plain && snap);
    EXPECT_EQ(snap->syscalls(), sorted(plain->syscalls(), {"ftruncate", "openat", "pread64", "pwrite64"}))
        << "(ioctl is in both)";
    for (ThreadKind kind : {VCPU, IO, API}) {
        auto without = SeccompFilter::build(kind);
        auto with = SeccompFilter::build(kind, Sharing::None, Snapshots::Yes);
        ASSERT_TRUE(without && with);
        EXPECT_EQ(with->syscalls(), without->syscalls()) << thread_kind_name(kind);
    }
    int openats = 0;
    for (const auto& r : snapshot_rules()) {
        EXPECT_EQ(r.threads, MAIN) << r.syscall;
        EXPECT_GE(std::strlen(r.reason), 10u) << r.syscall;
        if (std::strcmp(r.syscall, "openat") == 0) {
            ++openats;
            EXPECT_EQ(r.check, ArgCheck::Equal);
            EXPECT_EQ(r.arg, 2u);
            EXPECT_EQ(r.value, static_cast<uint64_t>(O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC));
        }
        for (const char* bad : {"execve", "open", "openat2", "socket", "ptrace", "mount"})
            EXPECT_STRNE(r.syscall, bad);
    }
    EXPECT_EQ(openats, 1);
}

// ctl translate's walk runs on the chosen vCPU's thread, parked (Machine::translate): its
// registers, KVM's own walk and the host page's frame. Those calls are allowed there and on no
// other thread; the main thread only pauses and resumes, the API thread only formats.
TEST(SeccompRules, TranslateWalksOnlyOnTheVcpuThread) {
    auto kinds_of = [](const char* syscall, std::optional<unsigned long> ioctl) {
        unsigned kinds = 0;
        for (const SyscallRule& r : seccomp_rules())
            if (std::strcmp(r.syscall, syscall) == 0 &&
                (!ioctl || (r.check == ArgCheck::Equal && r.arg == 1 && r.value == *ioctl)))
                kinds |= r.threads;
        return kinds;
    };
    EXPECT_EQ(kinds_of("ioctl", KVM_GET_SREGS), unsigned{VCPU});
    EXPECT_EQ(kinds_of("ioctl", KVM_TRANSLATE), unsigned{VCPU});
    EXPECT_EQ(kinds_of("pread64", std::nullopt) & (MAIN | API), 0u);
    EXPECT_NE(kinds_of("pread64", std::nullopt) & VCPU, 0u);
    // Neither thread of an API-managed VM reads anything for a translate. (A snapshot's main
    // thread does read /proc/self/pagemap, for the RAM file: snapshot_rules(), tested above;
    // that filter is not what translate needs.)
    for (auto [kind, snapshots] : {std::pair{MAIN, Snapshots::No}, std::pair{API, Snapshots::Yes}}) {
        auto with = SeccompFilter::build(kind, Sharing::None, snapshots);
        ASSERT_TRUE(with);
        const auto& calls = with->syscalls();
        EXPECT_EQ(std::count(calls.begin(), calls.end(), "pread64"), 0) << thread_kind_name(kind);
    }
}

} // namespace
} // namespace minivmm::sandbox
