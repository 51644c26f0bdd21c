// A forked child loads one thread kind's filter; the calls that kind needs still work,
// and a forbidden call (execve, socket(AF_INET), openat, an executable mapping, a KVM ioctl the
// kind does not make) ends the process with SECCOMP_EXIT_CODE and the one documented line.
#include "sandbox/seccomp_filter.hpp"

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <optional>
#include <linux/kvm.h>
#include <string>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "confined_child.hpp"

namespace minivmm::sandbox {
namespace {

void say(const char* text) { [[maybe_unused]] ssize_t n = ::write(STDOUT_FILENO, text, std::strlen(text)); }

std::string forbidden_line(long nr, ThreadKind kind) {
    const char* names[] = {"execve", "socket", "openat", "mmap", "ioctl", "tgkill", "pread64"};
    const long numbers[] = {SYS_execve, SYS_socket, SYS_openat, SYS_mmap, SYS_ioctl, SYS_tgkill,
                            SYS_pread64};
    std::string name = "?";
    for (size_t i = 0; i < std::size(numbers); ++i)
        if (numbers[i] == nr) name = names[i];
    return "minivmm: error: seccomp: forbidden system call " + std::to_string(nr) + " (" + name +
           ") on a " + thread_kind_name(kind) + " thread (--no-seccomp disables the filters)\n";
}

class SeccompFilterTest : public ::testing::TestWithParam<ThreadKind> {
protected:
    void SetUp() override {
        auto f = SeccompFilter::build(GetParam());
        ASSERT_TRUE(f) << f.error().message();
        filter_.emplace(std::move(*f));
    }
    void expect_killed_by(const Child& c, long nr) {
        EXPECT_EQ(c.exit_code, SECCOMP_EXIT_CODE) << "signal " << c.signal << "\n" << c.err;
        EXPECT_EQ(c.err, forbidden_line(nr, GetParam()));
        EXPECT_EQ(c.out, "before\n");   // the allowed write before the forbidden call went out
    }
    std::optional<SeccompFilter> filter_;
};

TEST_P(SeccompFilterTest, CallsTheThreadNeedsStillWork) {
    int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ASSERT_GE(efd, 0);
    auto c = run_confined(*filter_, [efd] {
        uint64_t one = 1, got = 0;
        if (::write(efd, &one, sizeof one) != sizeof one) ::_exit(10);   // EventFd::signal
        if (::read(efd, &got, sizeof got) != sizeof got || got != 1) ::_exit(11);
        void* big = std::malloc(8 << 20);   // mmap/munmap through malloc
        if (big == nullptr) ::_exit(12);
        std::memset(big, 1, 8 << 20);
        std::free(big);
        timespec ts;
        if (::syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0) ::_exit(13);
        // A read-write anonymous mapping is fine (only executable ones are refused).
        void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED || ::munmap(p, 4096) != 0) ::_exit(14);
        ::close(efd);
        say("ok\n");
    });
    ::close(efd);
    EXPECT_EQ(c.exit_code, 0) << c.err;
    EXPECT_EQ(c.out, "ok\n");
    EXPECT_EQ(c.err, "");
}

TEST_P(SeccompFilterTest, ExecveEndsTheProcessWithTheDocumentedCodeAndLine) {
    auto c = run_confined(*filter_, [] {
        say("before\n");
        char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
        ::execve("/bin/true", argv, environ);
        say("execve returned\n");
    });
    expect_killed_by(c, SYS_execve);
}

TEST_P(SeccompFilterTest, InetSocketEndsTheProcess) {
    auto c = run_confined(*filter_, [] {
        say("before\n");
        ::socket(AF_INET, SOCK_STREAM, 0);
        say("socket returned\n");
    });
    expect_killed_by(c, SYS_socket);
}

TEST_P(SeccompFilterTest, OpeningAFileEndsTheProcess) {
    auto c = run_confined(*filter_, [] {
        say("before\n");
        ::syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
        say("openat returned\n");
    });
    expect_killed_by(c, SYS_openat);
}

TEST_P(SeccompFilterTest, ExecutableMappingEndsTheProcess) {
    auto c = run_confined(*filter_, [] {
        say("before\n");
        ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        say("mmap returned\n");
    });
    expect_killed_by(c, SYS_mmap);
}

TEST_P(SeccompFilterTest, KvmRunOnlyOnVcpuThreads) {
    // KVM_RUN on /dev/null: allowed calls reach the kernel (ENOTTY), forbidden ones never do.
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    ASSERT_GE(null, 0);
    auto c = run_confined(*filter_, [null] {
        say("before\n");
        if (::ioctl(null, KVM_RUN, 0) < 0 && errno == ENOTTY) say("ENOTTY\n");
    });
    ::close(null);
    if (GetParam() == VCPU) {
        EXPECT_EQ(c.exit_code, 0) << c.err;
        EXPECT_EQ(c.out, "before\nENOTTY\n");
    } else {
        expect_killed_by(c, SYS_ioctl);
    }
}

TEST_P(SeccompFilterTest, ExplainPortCallsOnlyOnVcpuThreads) {
    // What the explain port does on the vCPU thread: KVM_TRANSLATE (on /dev/null: ENOTTY when
    // allowed) and a pread of /proc/self/pagemap, opened before the filter as the machine does.
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    int pagemap = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(null, 0);
    ASSERT_GE(pagemap, 0);
    auto c = run_confined(*filter_, [null, pagemap] {
        uint64_t entry = 0;
        const off_t offset = static_cast<off_t>(reinterpret_cast<uintptr_t>(&entry) / 4096 * 8);
        if (::pread(pagemap, &entry, sizeof entry, offset) == sizeof entry) say("pagemap\n");
        say("before\n");
        kvm_translation t{};
        if (::ioctl(null, KVM_TRANSLATE, &t) < 0 && errno == ENOTTY) say("ENOTTY\n");
    });
    ::close(null);
    ::close(pagemap);
    if (GetParam() == MAIN) {   // the main thread reads no disk and no pagemap
        EXPECT_EQ(c.exit_code, SECCOMP_EXIT_CODE) << c.err;
        EXPECT_EQ(c.err, forbidden_line(SYS_pread64, MAIN));
    } else if (GetParam() == VCPU) {
        EXPECT_EQ(c.exit_code, 0) << c.err;
        EXPECT_EQ(c.out, "pagemap\nbefore\nENOTTY\n");
    } else {
        EXPECT_EQ(c.exit_code, SECCOMP_EXIT_CODE) << c.err;
        EXPECT_EQ(c.out, "pagemap\nbefore\n");
        EXPECT_EQ(c.err, forbidden_line(SYS_ioctl, IO));
    }
}

TEST_P(SeccompFilterTest, OnlyTheMainThreadKicksVcpus) {
    auto c = run_confined(
        *filter_,
        [] {
            say("before\n");
            ::syscall(SYS_tgkill, ::getpid(), ::gettid(), SIGUSR1);
            say("kicked\n");
        },
        [] { std::signal(SIGUSR1, SIG_IGN); });   // the kick signal, harmless here
    if (GetParam() == MAIN) {
        EXPECT_EQ(c.exit_code, 0) << c.err;
        EXPECT_EQ(c.out, "before\nkicked\n");
    } else {
        expect_killed_by(c, SYS_tgkill);
    }
}

INSTANTIATE_TEST_SUITE_P(AllThreadKinds, SeccompFilterTest, ::testing::Values(MAIN, VCPU, IO),
                         [](const auto& info) { return std::string(thread_kind_name(info.param)); });

TEST(SeccompFilter, SigsysBlockedBeforeInstallStillGivesTheMessage) {
    // Threads inherit the main thread's signal mask; a blocked SIGSYS would make the kernel
    // fall back to the default action (a core dump), so install_sigsys_handler unblocks it.
    auto f = SeccompFilter::build(VCPU);
    ASSERT_TRUE(f);
    auto c = run_confined(
        *f,
        [] {
            say("before\n");
            ::socket(AF_INET, SOCK_DGRAM, 0);
        },
        [] {
            sigset_t sys;
            sigemptyset(&sys);
            sigaddset(&sys, SIGSYS);
            pthread_sigmask(SIG_BLOCK, &sys, nullptr);
        });
    EXPECT_EQ(c.exit_code, SECCOMP_EXIT_CODE) << "signal " << c.signal;
    EXPECT_EQ(c.err, forbidden_line(SYS_socket, VCPU));
}


// glibc's malloc reads /sys/devices/system/cpu/online (an openat, which no filter allows) when a
// thread first needs a ninth arena, to size its limit: minivmm with 8 vCPUs was once ended that
// way on its I/O thread. ThreadFilters::build fixes the limit, so confined threads allocating
// at once, more of them than that, stay alive.
TEST(ThreadFilters, ManyConfinedThreadsAllocatingAtOnceStayAlive) {
    auto filters = ThreadFilters::build();
    ASSERT_TRUE(filters) << filters.error().message();
    constexpr int THREADS = 24;
    const int ready = ::eventfd(0, EFD_CLOEXEC), done = ::eventfd(0, EFD_CLOEXEC);
    int go[2], never[2];
    ASSERT_TRUE(ready >= 0 && done >= 0 && ::pipe(go) == 0 && ::pipe(never) == 0);
    const auto add = [](int fd) {
        const uint64_t one = 1;
        if (::write(fd, &one, sizeof one) != sizeof one) ::_exit(95);
    };
    const auto wait_for = [](int fd, uint64_t count) {
        for (uint64_t seen = 0; seen < count;) {
            uint64_t n = 0;
            if (::read(fd, &n, sizeof n) != sizeof n) ::_exit(94);
            seen += n;
        }
    };
    auto c = run_confined(
        filters->main,
        [&] {
            wait_for(ready, THREADS);   // every thread confined, none has allocated yet
            const char bytes[THREADS] = {};
            if (::write(go[1], bytes, sizeof bytes) != sizeof bytes) ::_exit(93);
            wait_for(done, THREADS);
            say("ok\n");
        },
        [&] {
            // Started before the main thread's filter (no thread kind may start threads); each
            // loads the I/O threads' filter itself, as minivmm's threads do.
            for (int i = 0; i < THREADS; ++i)
                std::thread([&] {
                    if (!filters->io.load()) ::_exit(97);
                    add(ready);
                    char byte;
                    if (::read(go[0], &byte, 1) != 1) ::_exit(96);
                    void* volatile p = std::malloc(64);   // this thread's first allocation
                    if (p == nullptr) ::_exit(92);
                    add(done);
                    (void)::read(never[0], &byte, 1);   // stays alive, its arena in use
                }).detach();
        });
    for (int fd : {ready, done, go[0], go[1], never[0], never[1]}) ::close(fd);
    EXPECT_EQ(c.exit_code, 0) << "signal " << c.signal << "\n" << c.err;
    EXPECT_EQ(c.out, "ok\n");
    EXPECT_EQ(c.err, "");
}

} // namespace
} // namespace minivmm::sandbox
