// scale_guest: the guest side of tools/bench/scaling, a static program run inside a Linux
// guest by the command runner (minivmm --kernel K -- CMD, or QEMU with the same init), which
// sees the host's root as its own, so this binary runs in the guest at its host path.
//
//   scale_guest exits PORT ITERS
//     one thread per online CPU, each pinned to its CPU, ITERS `outb` to PORT (a port neither
//     VMM handles: every write is a port-I/O exit to the VMM's user space and back), all
//     threads released together. One line:
//       scale exits cpus=N iters=I wall_ns=W rate=R ns=a,b,...
//     W: from the release to the last thread's end; R: N * I / W exits per second; ns: each
//     thread's own ns per exit, CPU order.
//   scale_guest blk SECONDS DEV...
//     one thread per device: 4 KiB O_DIRECT preads at random 4 KiB-aligned offsets (xorshift,
//     a seed per device), one in flight per device, for SECONDS. One line:
//       scale blk disks=N seconds=S wall_ns=W iops=I mbps=M per_disk_iops=a,b,...
//     I and M over all devices (MB = 10^6 bytes), from the reads done and W.
// Exit status 0 with the line on stdout; 1 with a message on stderr when something failed.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define BLOCK 4096

static pthread_barrier_t start_line;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int parse_u64(const char* s, uint64_t max, uint64_t* out) {
    char* end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || v > max) return -1;
    *out = v;
    return 0;
}

struct exit_thread {
    pthread_t thread;
    size_t cpu;
    unsigned port;
    uint64_t iters;
    uint64_t ns;   // its own elapsed time for the iters
    uint64_t end;  // CLOCK_MONOTONIC at its end
    int err;
};

static void* exits_main(void* p) {
    struct exit_thread* t = p;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(t->cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) t->err = errno;
    // ioperm's bitmap is per thread: each thread asks for its own.
    if (!t->err && ioperm(t->port, 1, 1) != 0) t->err = errno;
    if (!t->err)
        for (int i = 0; i < 100; ++i) outb(0, (unsigned short)t->port);   // warm-up
    pthread_barrier_wait(&start_line);
    if (t->err) return NULL;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < t->iters; ++i) outb((unsigned char)i, (unsigned short)t->port);
    t->end = now_ns();
    t->ns = t->end - t0;
    return NULL;
}

static int exits(int argc, char** argv) {
    uint64_t port, iters;
    if (argc != 4 || parse_u64(argv[2], 0xffff, &port) || parse_u64(argv[3], 1u << 30, &iters) ||
        iters == 0) {
        fprintf(stderr, "usage: scale_guest exits PORT ITERS\n");
        return 2;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1 || n > MAX_THREADS) {
        fprintf(stderr, "scale_guest: %ld online CPUs\n", n);
        return 1;
    }
    static struct exit_thread t[MAX_THREADS];
    pthread_barrier_init(&start_line, NULL, (unsigned)n + 1);
    for (long i = 0; i < n; ++i) {
        t[i] = (struct exit_thread){.cpu = (size_t)i, .port = (unsigned)port, .iters = iters};
        if (pthread_create(&t[i].thread, NULL, exits_main, &t[i]) != 0) {
            fprintf(stderr, "scale_guest: pthread_create failed\n");
            return 1;
        }
    }
    pthread_barrier_wait(&start_line);
    uint64_t t0 = now_ns(), last = t0;
    int failed = 0;
    for (long i = 0; i < n; ++i) {
        pthread_join(t[i].thread, NULL);
        if (t[i].err) {
            fprintf(stderr, "scale_guest: thread on CPU %ld: %s\n", i, strerror(t[i].err));
            failed = 1;
        }
        if (t[i].end > last) last = t[i].end;
    }
    if (failed) return 1;
    uint64_t wall = last - t0;
    printf("scale exits cpus=%ld iters=%" PRIu64 " wall_ns=%" PRIu64 " rate=%.1f ns=", n, iters,
           wall, wall ? (double)n * (double)iters * 1e9 / (double)wall : 0.0);
    for (long i = 0; i < n; ++i)
        printf("%s%.1f", i ? "," : "", (double)t[i].ns / (double)iters);
    printf("\n");
    return 0;
}

struct blk_thread {
    pthread_t thread;
    const char* dev;
    uint64_t seed;
    uint64_t deadline;
    uint64_t reads;
    uint64_t end;
    int err;
};

static void* blk_main(void* p) {
    struct blk_thread* t = p;
    void* buf = NULL;
    int fd = open(t->dev, O_RDONLY | O_DIRECT);
    uint64_t size = 0;
    int sized = fd >= 0 && ioctl(fd, BLKGETSIZE64, &size) == 0;
    if (fd >= 0 && !sized) {   // a plain file (a test on the host)
        off_t end = lseek(fd, 0, SEEK_END);
        size = end > 0 ? (uint64_t)end : 0;
        sized = end >= 0;
    }
    if (!sized) t->err = errno;
    else if (size < BLOCK) t->err = EINVAL;
    else if ((t->err = posix_memalign(&buf, BLOCK, BLOCK)) != 0) buf = NULL;
    pthread_barrier_wait(&start_line);
    uint64_t x = t->seed, blocks = size / BLOCK;
    while (!t->err) {
        for (int i = 0; i < 16; ++i) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;   // xorshift64
            if (pread(fd, buf, BLOCK, (off_t)((x % blocks) * BLOCK)) != BLOCK) {
                t->err = errno ? errno : EIO;
                break;
            }
            ++t->reads;
        }
        t->end = now_ns();
        if (t->end >= t->deadline) break;
    }
    free(buf);
    if (fd >= 0) close(fd);
    return NULL;
}

static int blk(int argc, char** argv) {
    uint64_t seconds;
    if (argc < 4 || parse_u64(argv[2], 3600, &seconds) || seconds == 0 || argc - 3 > MAX_THREADS) {
        fprintf(stderr, "usage: scale_guest blk SECONDS DEV...\n");
        return 2;
    }
    int n = argc - 3;
    static struct blk_thread t[MAX_THREADS];
    pthread_barrier_init(&start_line, NULL, (unsigned)n + 1);
    for (int i = 0; i < n; ++i) {
        t[i] = (struct blk_thread){.dev = argv[3 + i], .seed = 0x9e3779b97f4a7c15u * (uint64_t)(i + 1)};
        if (pthread_create(&t[i].thread, NULL, blk_main, &t[i]) != 0) {
            fprintf(stderr, "scale_guest: pthread_create failed\n");
            return 1;
        }
    }
    // The deadline counts from the release (the devices are open by then); the threads read
    // it only after the barrier.
    uint64_t t0 = now_ns();
    for (int i = 0; i < n; ++i) t[i].deadline = t0 + seconds * 1000000000u;
    pthread_barrier_wait(&start_line);
    uint64_t last = t0, reads = 0;
    int failed = 0;
    for (int i = 0; i < n; ++i) {
        pthread_join(t[i].thread, NULL);
        if (t[i].err) {
            fprintf(stderr, "scale_guest: %s: %s\n", t[i].dev, strerror(t[i].err));
            failed = 1;
        }
        if (t[i].end > last) last = t[i].end;
        reads += t[i].reads;
    }
    if (failed) return 1;
    uint64_t wall = last - t0;
    double s = (double)(wall ? wall : 1) / 1e9;
    printf("scale blk disks=%d seconds=%" PRIu64 " wall_ns=%" PRIu64 " iops=%.1f mbps=%.2f "
           "per_disk_iops=", n, seconds, wall, (double)reads / s, (double)reads * BLOCK / s / 1e6);
    for (int i = 0; i < n; ++i) printf("%s%.1f", i ? "," : "", (double)t[i].reads / s);
    printf("\n");
    return 0;
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && strcmp(argv[1], "exits") == 0) return exits(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "blk") == 0) return blk(argc, argv);
    fprintf(stderr, "usage: scale_guest exits PORT ITERS | scale_guest blk SECONDS DEV...\n");
    return 2;
}
