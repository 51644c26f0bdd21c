// The command runner's guest init (minivmm --kernel K -- CMD): PID 1 of the guest, started by
// the kernel as rdinit=/minivmm/init from the archive minivmm appends to the initramfs. Built
// static with the project, embedded in minivmm; only libc.
//
// It tells minivmm it started (a write to port 0x511: the --boot-timeout stops counting), mounts
// proc, sys, devtmpfs on /dev, tmpfs on /tmp and /run and the job's 9p shares, runs CMD in the
// job's directory with stdin from /dev/null, stdout on /dev/hvc0 and stderr on /dev/hvc1 (two
// virtio consoles minivmm connects to its own stdout and stderr), waits for it, drains both
// consoles and writes CMD's status to the exit-status port 0x510: the exit code, 128 + the
// signal for a killed CMD, 127 when CMD was not found, 126 when it could not be executed.
// A failure of its own before CMD runs is a line on hvc1 (or the serial console) and status 127
// (CMD not found) or 126 (anything else). Its input is /minivmm/job (runner/job.hpp) and, when
// the initramfs has it, /etc/minivmm/modules: kernel modules to load before anything else, for
// a kernel that builds the runner's drivers as modules (guest-images/build-cloud-kernel).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define EXIT_PORT 0x510          // vmm/memory/layout.hpp: EXIT_PORT
#define INIT_STARTED_PORT 0x511  // vmm/memory/layout.hpp: INIT_STARTED_PORT
#define JOB_FILE "/minivmm/job"
#define JOB_MAGIC "minivmm-job 1"
#define MAX_FIELDS 4096
#define MAX_JOB_BYTES (4u << 20)
#define MODULES_FILE "/etc/minivmm/modules"

static int err_fd = -1;   // hvc1 once open; the kernel's console (/dev/console) before

static void say(const char* fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n > sizeof line - 2) n = sizeof line - 2;
    line[n++] = '\n';
    int fd = err_fd >= 0 ? err_fd : 2;
    (void)!write(fd, line, (size_t)n);
}

static void report(int status) {
    // The VM ends with this write; nothing after it runs.
    outb((unsigned char)status, EXIT_PORT);
    for (;;) pause();
}

static void fail(int status, const char* what) {
    say("minivmm-init: %s", what);
    if (err_fd >= 0) tcdrain(err_fd);
    report(status);
}

static void mount_one(const char* source, const char* dir, const char* type, unsigned long flags,
                      const char* data) {
    mkdir(dir, 0755);
    if (mount(source, dir, type, flags, data) == 0 || errno == EBUSY) return;
    char what[256];
    snprintf(what, sizeof what, "mount %s on %s: %s", type, dir, strerror(errno));
    fail(126, what);
}

// The kernel opens /dev/console as stdin, stdout and stderr only when the initramfs has that
// node; minivmm's archive has none. devtmpfs has it, so a failure before hvc1 opens (a missing
// module, no virtio-console) still reaches the serial console (--serial shows it).
static void console_stderr(void) {
    if (fcntl(2, F_GETFD) >= 0) return;
    int fd = open("/dev/console", O_WRONLY | O_NOCTTY);
    if (fd < 0 || fd == 2) return;
    dup2(fd, 2);
    close(fd);
}

// MODULES_FILE, when the initramfs has one: one absolute path of an uncompressed module (.ko)
// a line, dependencies first (the file's maker resolves them: no modprobe here), '#' lines
// ignored. Each is loaded with finit_module; one already loaded (EEXIST) is fine, any other
// failure ends the run with 126 and the module's name. Runs before the consoles exist, so a
// failure is reported on the kernel's console (--serial file:PATH keeps it). devtmpfs is
// mounted first: the modules' devices (hvc0, hvc1) appear in it.
static void load_modules(void) {
    FILE* list = fopen(MODULES_FILE, "re");
    if (list == NULL) return;
    char path[512];
    while (fgets(path, sizeof path, list) != NULL) {
        path[strcspn(path, "\n")] = '\0';
        if (path[0] != '/') continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)) {
            char what[600];
            snprintf(what, sizeof what, "load module %s: %s", path, strerror(errno));
            fail(126, what);
        }
        close(fd);
    }
    fclose(list);
}

#define NINEP_OPTIONS "trans=virtio,version=9p2000.L"

static void mount_kernel_fs(void) {
    mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
}

static void mount_base(void) {
    mount_kernel_fs();
    mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
    mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
}

// The share TAG (the host's root) becomes the guest's root: read-only, with a tmpfs overlay
// that takes the writes (gone with the VM), moved over the initramfs as switch_root does.
static void switch_to_root(const char* tag) {
    mount_one(tag, "/minivmm/lower", "9p", MS_RDONLY, NINEP_OPTIONS);
    mount_one("tmpfs", "/minivmm/rw", "tmpfs", 0, "mode=0755");
    mkdir("/minivmm/rw/upper", 0755);
    mkdir("/minivmm/rw/work", 0755);
    mount_one("overlay", "/minivmm/root", "overlay", 0,
              "lowerdir=/minivmm/lower,upperdir=/minivmm/rw/upper,workdir=/minivmm/rw/work");
    if (chdir("/minivmm/root") != 0 || mount(".", "/", NULL, MS_MOVE, NULL) != 0 ||
        chroot(".") != 0 || chdir("/") != 0) {
        char what[128];
        snprintf(what, sizeof what, "cannot make the host's root the guest's: %s", strerror(errno));
        fail(126, what);
    }
}

// mkdir -p, for a share's mount point.
static void make_dirs(const char* path) {
    char buf[4096];
    size_t len = strlen(path);
    if (len >= sizeof buf) return;
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; ++i) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            mkdir(buf, 0755);
            buf[i] = c;
        }
    }
}

// The consoles carry bytes as they are: no "\n" to "\r\n" (OPOST), so CMD's output reaches
// minivmm's stdout byte for byte.
static int open_console(const char* path) {
    int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
    }
    return fd;
}

#define MAX_SHARES 64

struct share {
    const char* tag;
    const char* dir;
    int writable;
};

struct job {
    const char* root_tag;   // the guest's root: this share, read-only, under a tmpfs overlay
    char* argv[MAX_FIELDS + 1];
    char* env[MAX_FIELDS + 1];
    size_t argc, envc, nshares;
    struct share shares[MAX_SHARES];
    const char* cwd;
};

// Reads and checks the job file: every field is NUL-terminated, the order is the one
// runner/job.hpp gives.
static void read_job(struct job* job) {
    int fd = open(JOB_FILE, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(126, "cannot open " JOB_FILE);
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size <= 0 || (size_t)st.st_size > MAX_JOB_BYTES)
        fail(126, "bad " JOB_FILE);
    size_t size = (size_t)st.st_size;
    char* buf = malloc(size + 1);
    if (buf == NULL) fail(126, "out of memory");
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, buf + done, size - done);
        if (n <= 0) fail(126, "cannot read " JOB_FILE);
        done += (size_t)n;
    }
    close(fd);
    buf[size] = '\0';
    if (buf[size - 1] != '\0') fail(126, JOB_FILE ": last field not terminated");
    char* p = buf;
    char* end = buf + size;
    if (strcmp(p, JOB_MAGIC) != 0) fail(126, JOB_FILE ": not a version 1 job");
    p += strlen(p) + 1;
    job->argc = job->envc = job->nshares = 0;
    job->cwd = job->root_tag = NULL;
    if (p < end && strncmp(p, "root=", 5) == 0) {
        job->root_tag = p + 5;
        p += strlen(p) + 1;
    }
    // (The next field is found before a share field's spaces are cut into NULs.)
    for (char* next; p < end; p = next) {
        next = p + strlen(p) + 1;
        if (strncmp(p, "arg=", 4) == 0 && job->envc == 0 && job->cwd == NULL) {
            if (job->argc == MAX_FIELDS) fail(126, JOB_FILE ": too many arguments");
            job->argv[job->argc++] = p + 4;
        } else if (strncmp(p, "env=", 4) == 0 && job->cwd == NULL) {
            if (job->envc == MAX_FIELDS) fail(126, JOB_FILE ": too many variables");
            job->env[job->envc++] = p + 4;
        } else if (strncmp(p, "share=", 6) == 0 && job->cwd == NULL) {
            char* mode = p + 6;
            char* tag = strchr(mode, ' ');
            char* dir = tag ? strchr(tag + 1, ' ') : NULL;
            if (dir == NULL || dir[1] != '/') fail(126, JOB_FILE ": bad share field");
            *tag++ = '\0';
            *dir++ = '\0';
            int rw = strcmp(mode, "rw") == 0;
            if (!rw && strcmp(mode, "ro") != 0) fail(126, JOB_FILE ": bad share mode");
            if (job->nshares == MAX_SHARES) fail(126, JOB_FILE ": too many shares");
            job->shares[job->nshares++] = (struct share){tag, dir, rw};
        } else if (strncmp(p, "cwd=", 4) == 0 && job->cwd == NULL && p[4] == '/') {
            job->cwd = p + 4;
        } else {
            fail(126, JOB_FILE ": unexpected field");
        }
    }
    if (job->argc == 0 || job->cwd == NULL) fail(126, JOB_FILE ": no command or no directory");
    job->argv[job->argc] = NULL;
    job->env[job->envc] = NULL;
}

int main(void) {
    if (getpid() != 1) {
        fprintf(stderr, "minivmm-init: runs only as the guest's PID 1\n");
        return 1;
    }
    if (ioperm(EXIT_PORT, 2, 1) != 0) {
        // No port access (a kernel without CONFIG_X86_IOPL_IOPERM): no status can reach
        // minivmm; panicking (init exits) ends the VM with the kernel-panic code.
        say("minivmm-init: ioperm: %s (the kernel needs CONFIG_X86_IOPL_IOPERM)", strerror(errno));
        return 1;
    }
    outb(1, INIT_STARTED_PORT);

    mount_base();
    console_stderr();
    load_modules();

    int out_fd = open_console("/dev/hvc0");
    err_fd = open_console("/dev/hvc1");
    if (out_fd < 0 || err_fd < 0) {
        err_fd = -1;
        fail(126, "cannot open /dev/hvc0 and /dev/hvc1 (the kernel needs CONFIG_VIRTIO_CONSOLE)");
    }

    struct job* job = calloc(1, sizeof *job);
    if (job == NULL) fail(126, "out of memory");
    read_job(job);
    if (job->root_tag) {
        switch_to_root(job->root_tag);
        // proc, sys and dev again in the new root; its /tmp and /run are the host's, as every
        // other directory (writable through the overlay): the host's current directory may be
        // in /tmp.
        mount_kernel_fs();
    }
    for (size_t i = 0; i < job->nshares; ++i) {
        const struct share* s = &job->shares[i];
        make_dirs(s->dir);
        mount_one(s->tag, s->dir, "9p", s->writable ? 0 : MS_RDONLY, NINEP_OPTIONS);
    }
    if (chdir(job->cwd) != 0) {
        char what[256];
        snprintf(what, sizeof what, "cannot enter %s: %s", job->cwd, strerror(errno));
        fail(126, what);
    }

    pid_t child = fork();
    if (child < 0) fail(126, "fork failed");
    if (child == 0) {
        int null_fd = open("/dev/null", O_RDONLY);
        if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
            _exit(126);
        if (null_fd > 2) close(null_fd);
        setsid();
        environ = job->env;   // execvp searches the job's PATH
        execvp(job->argv[0], job->argv);
        int e = errno;
        dprintf(2, "minivmm-init: %s: %s\n", job->argv[0], strerror(e));
        tcdrain(2);
        _exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
    }

    // PID 1 reaps every orphan; CMD's own status is the one reported.
    int status = 0;
    for (;;) {
        int s;
        pid_t pid = wait(&s);
        if (pid == child) {
            status = s;
            break;
        }
        if (pid < 0 && errno != EINTR) fail(126, "lost track of the command");
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    // Every byte CMD wrote is out of the guest before the VM ends: hvc's buffer is empty once
    // tcdrain returns, and virtio-console's driver waits for minivmm to take each buffer.
    tcdrain(out_fd);
    tcdrain(err_fd);
    sync();
    report(code);
    return 0;
}
