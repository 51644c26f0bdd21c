// The allow-list table. Derived from the code (every call each thread makes after set-up, and
// what glibc and libstdc++ make on its behalf); one rule per line with its reason. Adding a
// device that makes a new call from a thread means adding its rule here, and the expected
// lists in tests/unit/sandbox/seccomp_rules_test.cpp.
#include "sandbox/seccomp_rules.hpp"

#include <csignal>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/sockios.h>
#include <sys/mman.h>
#include <sys/ioctl.h>

#include "kvm/kvm_list.hpp"

namespace minivmm::sandbox {

namespace {
constexpr ArgCheck NONE = ArgCheck::None;
constexpr ArgCheck EQ = ArgCheck::Equal;
constexpr ArgCheck NO_BITS = ArgCheck::MaskedZero;
constexpr uint64_t SIGNAL(int sig) { return static_cast<uint64_t>(sig); }
constexpr uint64_t PROT(int prot) { return static_cast<uint64_t>(prot); }
// KVM_GET_MSRS as Vcpu::get_msrs issues it: the number encodes C's size of the kvm_msrs header
// (8), where the header's macro compiled as C++ gives another (see vmm/kvm/kvm_list.hpp).
constexpr unsigned long GET_MSRS = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x88, 8);

constexpr SyscallRule RULES[] = {
    // --- I/O on descriptors opened during set-up -------------------------------------------
    {"read", ALL_THREADS, NONE, 0, 0,
     "EventFd::consume, the main thread's signalfd, stdin and tap input"},
    {"write", ALL_THREADS, NONE, 0, 0,
     "guest serial output to stdout (SerialOutputBuffer: the loop thread, a vCPU whose buffer "
     "is full, the main thread at the end), log lines to stderr, EventFd::signal "
     "(VmControl::finish, irqfd triggers, EventLoop::stop), the SIGSYS handler's message"},
    {"sendto", ALL_THREADS, NONE, 0, 0,
     "guest serial output to a stdout that is a socket, sent with MSG_DONTWAIT, from the "
     "threads that write serial output"},
    {"timerfd_settime", VM_THREADS, NONE, 0, 0,
     "SerialOutputBuffer's flush timer: started by the vCPU that buffers the first byte, "
     "stopped by the loop thread, either by a thread that flushes; a virtio device arms or "
     "disarms its timer (LoopEventSources) on the vCPU or I/O thread it runs on"},
    // Device work runs on the I/O thread (ioeventfd, tap and stdin readiness); a vCPU reaches
    // it too when an exit lands in a device (a QueueNotify no ioeventfd caught, a reset).
    {"writev", VCPU | IO, NONE, 0, 0, "tap frames out (Tap::send, virtio-net transmit)"},
    {"sendmsg", VCPU | IO, NONE, 0, 0,
     "frames out to passt or a --net stream peer (StreamIo::send: length prefix and frame)"},
    {"recvfrom", VCPU | IO, NONE, 0, 0,
     "frames in from passt or a --net stream peer (StreamIo::recv)"},
    {"io_uring_enter", VCPU | IO, NONE, 0, 0,
     "tap frames out in batches (UringWriter: a ring set up before the filters, restricted to "
     "WRITE and WRITEV, IORING_REGISTER_RESTRICTIONS)"},
    {"pread64", VCPU | IO, NONE, 0, 0,
     "disk image reads (FileBackend, virtio-blk); the explain port and ctl translate read "
     "/proc/self/pagemap (opened before the filters) on the vCPU thread"},
    {"pwrite64", VCPU | IO, NONE, 0, 0, "disk image writes (FileBackend, virtio-blk)"},
    {"fdatasync", VM_THREADS, NONE, 0, 0,
     "virtio-blk flush requests (FileBackend::flush, vCPU and I/O); at the end the main "
     "thread's Machine::flush_disks makes every writable disk durable (SIGTERM included)"},
    {"fallocate", VCPU | IO, NONE, 0, 0,
     "virtio-blk discard and write-zeroes (FileBackend: punch hole, zero range)"},
    {"getrandom", VCPU | IO, NONE, 0, 0, "virtio-rng requests (GetrandomSource)"},
    {"accept4", VCPU | IO | API, NONE, 0, 0,
     "virtio-console on a unix socket: SocketHost::poll accepts a waiting client when "
     "the device wakes (I/O thread) or is activated (the driver's status write, a vCPU); the "
     "API thread accepts its clients (ApiServer::serve)"},
    {"unlink", API, NONE, 0, 0,
     "the API thread removes its own socket file when the VM has ended (ApiServer, after "
     "checking with lstat that the file is still the one it made)"},
    {"close", ALL_THREADS, NONE, 0, 0,
     "teardown closes every descriptor (main); a device reset may close its own"},
    {"newfstatat", ALL_THREADS, NONE, 0, 0,
     "glibc stdio: the first write to a stream sizes its buffer with fstat"},
    {"fstat", ALL_THREADS, NONE, 0, 0, "glibc stdio, older glibc spelling of the same fstat"},
    {"ioctl", ALL_THREADS, EQ, 1, TCGETS, "glibc stdio: isatty() when a stream is set up"},
    {"ioctl", ALL_THREADS, EQ, 1, TCSETS,
     "TerminalGuard puts the terminal back (tcsetattr TCSANOW) at the end and from its "
     "fatal-signal handler, on whichever thread faulted"},
    // --- KVM -------------------------------------------------------------------------------
    {"ioctl", VCPU, EQ, 1, KVM_RUN, "runs the guest (VcpuLoop::run)"},
    {"ioctl", VCPU, EQ, 1, KVM_GET_REGS, "registers printed on a fatal exit (dump_registers)"},
    {"ioctl", VCPU, EQ, 1, KVM_GET_SREGS,
     "registers printed on a fatal exit (dump_registers); CR3, CR4 and EFER for the explain port "
     "and ctl translate (the parked vCPU walks on its own thread, Machine::translate)"},
    {"ioctl", VCPU, EQ, 1, KVM_TRANSLATE,
     "the explain port (--demo paging) and ctl translate: KVM's walk of the GVA, to check "
     "minivmm's own"},
    {"ioctl", VCPU, EQ, 1, KVM_GET_MP_STATE,
     "state reports (--timeout, SIGTERM, SIGINT, SIGUSR2): each vCPU reads its own state"},
    {"ioctl", VCPU, EQ, 1, KVM_GET_VCPU_EVENTS, "state reports: pending events"},
    {"ioctl", VCPU, EQ, 1, KVM_GET_LAPIC, "state reports: the local APIC"},
    {"ioctl", VCPU, EQ, 1, GET_MSRS, "state reports: TSC and TSC-deadline MSRs"},
    {"ioctl", VCPU, EQ, 1, KVM_GET_TSC_KHZ, "state reports: the TSC-deadline timer in us"},
    {"ioctl", VCPU, EQ, 1, KVM_KVMCLOCK_CTRL,
     "Machine::pause: each vCPU, parked, tells its guest it was paused (kvmclock)"},
    {"ioctl", VCPU | IO, EQ, 1, KVM_IRQ_LINE,
     "KvmIrqLine::set_level: a device raises or lowers a level-triggered line"},
    // --- taps ------------------------------------------------------------------------------
    {"ioctl", VCPU | IO, EQ, 1, TUNSETVNETHDRSZ,
     "virtio-net activation (Tap::configure) runs in the driver's DRIVER_OK status write; the "
     "I/O thread configures a tap attached again after it was deleted"},
    {"ioctl", VCPU | IO, EQ, 1, TUNSETOFFLOAD,
     "Tap::configure: the receive offloads the guest accepted (activation, or a tap attached "
     "again)"},
    {"ioctl", IO, EQ, 1, SIOCGIFFLAGS,
     "Tap::reattach, on the I/O thread's timer: whether a deleted tap's name exists again and "
     "is up (on a socket opened with the tap)"},
    {"ioctl", IO, EQ, 1, TUNSETIFF,
     "Tap::reattach: the tap's own descriptor attached to the re-created tap (only once one "
     "exists: creating taps is not allowed here)"},
    // --- waiting ---------------------------------------------------------------------------
    {"epoll_wait", IO, NONE, 0, 0, "EventLoop::run_once"},
    {"epoll_pwait", IO, NONE, 0, 0, "EventLoop::run_once where glibc uses epoll_pwait"},
    {"epoll_ctl", ALL_THREADS, NONE, 0, 0,
     "EventLoop::add/remove/set_events may be called from any thread"},
    {"poll", ALL_THREADS, NONE, 0, 0,
     "Machine::run waits for the VM's end, a signal or the timeout; serial output to a "
     "blocking descriptor /proc could not reopen is written only when poll says there is room "
     "(any thread that writes serial output); the end's flush waits for a slow reader"},
    {"clock_nanosleep", MAIN, NONE, 0, 0,
     "state reports wait (1 ms steps, 1 s at most) for a device lock another thread holds"},
    {"nanosleep", MAIN, NONE, 0, 0, "the same, where glibc uses nanosleep"},
    {"ppoll", ALL_THREADS, NONE, 0, 0, "poll, where glibc implements it with ppoll"},
    {"futex", ALL_THREADS, NONE, 0, 0,
     "std::mutex and condition variables (EventLoop, VmControl), std::thread::join"},
    {"restart_syscall", ALL_THREADS, NONE, 0, 0,
     "the kernel resumes a wait with a timeout interrupted by a signal handler"},
    {"clock_gettime", ALL_THREADS, NONE, 0, 0,
     "exit statistics timestamps (the vDSO's fallback to the system call)"},
    // --- memory (glibc malloc, thread stacks, teardown); never executable ------------------
    {"mmap", ALL_THREADS, NO_BITS, 2, PROT(PROT_EXEC),
     "malloc of large blocks and new arenas; never PROT_EXEC (guest RAM is never executable)"},
    {"mprotect", ALL_THREADS, NO_BITS, 2, PROT(PROT_EXEC),
     "malloc grows a thread arena's heap; never PROT_EXEC"},
    {"mremap", ALL_THREADS, NONE, 0, 0, "realloc of large blocks"},
    {"munmap", ALL_THREADS, NONE, 0, 0,
     "free() of large blocks; teardown of guest RAM and kvm_run mappings"},
    {"madvise", ALL_THREADS, NONE, 0, 0,
     "free() trims with MADV_DONTNEED; an exiting thread releases its stack"},
    {"brk", ALL_THREADS, NONE, 0, 0, "malloc's main arena, which any thread may be handed"},
    // --- signals and the end ---------------------------------------------------------------
    {"rt_sigreturn", ALL_THREADS, NONE, 0, 0, "return from the vCPU kick handler (SIGUSR1)"},
    {"rt_sigprocmask", ALL_THREADS, NONE, 0, 0,
     "glibc masks signals around abort() and thread exit"},
    {"sigaltstack", ALL_THREADS, NONE, 0, 0,
     "the sanitizer runtimes (ASan, TSan) query and set each thread's alternate signal stack "
     "when their handlers run; harmless in a plain build"},
    {"rt_sigaction", ALL_THREADS, NONE, 0, 0,
     "TerminalGuard's fatal-signal handler and destructor put the previous actions back"},
    {"getpid", ALL_THREADS, NONE, 0, 0, "pthread_kill and raise() address tgkill(getpid(), ...)"},
    {"gettid", ALL_THREADS, NONE, 0, 0, "raise() finds its own thread"},
    {"tgkill", ALL_THREADS, EQ, 2, SIGNAL(SIGABRT),
     "abort() (MINIVMM_ASSERT) raises SIGABRT on its own thread"},
    {"tgkill", MAIN, EQ, 2, SIGNAL(SIGUSR1), "VcpuLoop::kick interrupts a vCPU inside KVM_RUN"},
    {"tgkill", ALL_THREADS, EQ, 2, SIGNAL(SIGSEGV),
     "TerminalGuard re-raises a fatal signal that was sent (kill -SEGV) after restoring"},
    {"tgkill", ALL_THREADS, EQ, 2, SIGNAL(SIGBUS), "TerminalGuard re-raises a sent SIGBUS"},
    {"tgkill", ALL_THREADS, EQ, 2, SIGNAL(SIGILL), "TerminalGuard re-raises a sent SIGILL"},
    {"tgkill", ALL_THREADS, EQ, 2, SIGNAL(SIGFPE), "TerminalGuard re-raises a sent SIGFPE"},
    {"exit", ALL_THREADS, NONE, 0, 0, "a thread returns from its function"},
    {"exit_group", ALL_THREADS, NONE, 0, 0, "the process ends (also the SIGSYS handler's _exit)"},
};

// The 9p server's calls (devices/p9, on the I/O thread, or a vCPU's when an exit lands in the
// device). Every path it names is resolved inside a share by openat2 (RESOLVE_IN_ROOT or
// RESOLVE_BENEATH, no symlinks); the *at calls name one component in a directory so resolved.
constexpr SyscallRule SHARE_RULES[] = {
    {"openat2", VCPU | IO, NONE, 0, 0,
     "virtio-9p: every share path resolved inside its share (ShareRoot: RESOLVE_IN_ROOT or "
     "RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS)"},
    {"fstatfs", VCPU | IO, NONE, 0, 0, "virtio-9p: Tstatfs, and the pseudo-file-system checks"},
    {"getdents64", VCPU | IO, NONE, 0, 0, "virtio-9p: Treaddir"},
    {"lseek", VCPU | IO, NONE, 0, 0, "virtio-9p: Treaddir seeks to the client's offset"},
    {"readlinkat", VCPU | IO, NONE, 0, 0, "virtio-9p: Treadlink"},
    {"mkdirat", VCPU | IO, NONE, 0, 0, "virtio-9p: Tmkdir (writable shares)"},
    {"mknodat", VCPU | IO, NONE, 0, 0, "virtio-9p: Tmknod of files, fifos, sockets"},
    {"symlinkat", VCPU | IO, NONE, 0, 0, "virtio-9p: Tsymlink"},
    {"linkat", VCPU | IO, NONE, 0, 0, "virtio-9p: Tlink, never following a symlink"},
    {"renameat", VCPU | IO, NONE, 0, 0, "virtio-9p: Trename, Trenameat"},
    {"renameat2", VCPU | IO, NONE, 0, 0, "virtio-9p: Trename, where glibc uses renameat2"},
    {"unlinkat", VCPU | IO, NONE, 0, 0, "virtio-9p: Tunlinkat, Tremove"},
    {"fchownat", VCPU | IO, NONE, 0, 0, "virtio-9p: Tsetattr uid/gid on an O_PATH descriptor"},
    {"fchmodat", VCPU | IO, NONE, 0, 0, "virtio-9p: Tsetattr mode"},
    {"fchmod", VCPU | IO, NONE, 0, 0, "virtio-9p: Tsetattr mode of an open fid"},
    {"utimensat", VCPU | IO, NONE, 0, 0, "virtio-9p: Tsetattr times on an O_PATH descriptor"},
    {"ftruncate", VCPU | IO, NONE, 0, 0, "virtio-9p: Tsetattr size"},
    {"fsync", VCPU | IO, NONE, 0, 0, "virtio-9p: Tfsync"},
};

// A snapshot (Machine::snapshot, on the main thread, asked for through the API socket) creates
// its state and memory files and writes them; nothing else of the file system opens up.
static_assert(SNAPSHOT_CREATE_FLAGS == (O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC));
constexpr SyscallRule SNAPSHOT_RULES[] = {
    {"openat", MAIN, EQ, 2, static_cast<uint64_t>(SNAPSHOT_CREATE_FLAGS),
     "a snapshot's state and memory files created (write-only, truncated, close-on-exec: "
     "no other flags pass, so no file can be opened for reading)"},
    {"pwrite64", MAIN, NONE, 0, 0, "a snapshot's state file and guest RAM written to its files"},
    {"pread64", MAIN, NONE, 0, 0,
     "a snapshot: /proc/self/pagemap (opened before the filter) read to skip guest RAM pages "
     "never touched"},
    // The paused machine's state, read by the main thread (Machine::capture_snapshot): each
    // vCPU's (save_vcpu) and the VM's in-kernel devices and clock. Reads only.
    {"ioctl", MAIN, EQ, 1, KVM_GET_REGS, "snapshot: a vCPU's registers"},
    {"ioctl", MAIN, EQ, 1, KVM_GET_SREGS, "snapshot: a vCPU's special registers"},
    {"ioctl", MAIN, EQ, 1, KVM_GET_FPU, "snapshot: a vCPU's FPU state"},
    {"ioctl", MAIN, EQ, 1, KVM_GET_XSAVE_C, "snapshot: a vCPU's XSAVE area"},
    {"ioctl", MAIN, EQ, 1, KVM_GET_XCRS, "snapshot: a vCPU's XCR0"},
    {"ioctl", MAIN, EQ, 1, KVM_GET_DEBUGREGS, "snapshot: a vCPU's debug registers"},
    {"ioctl", MAIN, EQ, 1, KVM_GET_LAPIC, "snapshot: a vCPU's local APIC"},
    {"ioctl", MAIN, EQ, 1, KVM_GET_VCPU_EVENTS, "snapshot: a vCPU's pending events"},
    {"ioctl", MAIN, EQ, 1, KVM_GET_MP_STATE, "snapshot: a vCPU's run state"},
    {"ioctl", MAIN, EQ, 1, GET_MSRS, "snapshot: a vCPU's MSRs (those KVM lists)"},
    {"ioctl", MAIN, EQ, 1, KVM_GET_IRQCHIP, "snapshot: the PICs and the IOAPIC"},
    {"ioctl", MAIN, EQ, 1, KVM_GET_PIT2, "snapshot: the PIT"},
    {"ioctl", MAIN, EQ, 1, KVM_GET_CLOCK, "snapshot: kvmclock"},
    {"ftruncate", MAIN, NONE, 0, 0, "a snapshot's memory file sized (its zero pages are holes)"},
};
} // namespace

std::span<const SyscallRule> seccomp_rules() { return RULES; }

std::span<const SyscallRule> snapshot_rules() { return SNAPSHOT_RULES; }

std::span<const SyscallRule> share_rules() { return SHARE_RULES; }

const char* thread_kind_name(ThreadKind kind) {
    switch (kind) {
    case MAIN: return "main";
    case VCPU: return "vcpu";
    case IO: return "io";
    case API: return "api";
    }
    return "?";
}

} // namespace minivmm::sandbox
