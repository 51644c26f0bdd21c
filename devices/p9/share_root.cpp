// ShareRoot (see share_root.hpp): openat2-based resolution inside the share.
#include "p9/share_root.hpp"

#include <cerrno>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <fmt/format.h>

#include "p9/p9_protocol.hpp"

namespace minivmm::p9 {

namespace {

// Every resolution: no symlink (so no magic link either), whatever the component.
constexpr uint64_t NO_LINKS = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

// File systems whose files are kernel interfaces, not data. procfs: never opened (a share of
// the host's "/" would otherwise hand the guest minivmm's own /proc/self/mem and environ).
// The others: never opened for writing nor changed.
constexpr int64_t PSEUDO_FS[] = {
    SYSFS_MAGIC,    CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, DEBUGFS_MAGIC, TRACEFS_MAGIC,
    SECURITYFS_MAGIC, BPF_FS_MAGIC,     EFIVARFS_MAGIC,      PSTOREFS_MAGIC, SELINUX_MAGIC,
    SMACK_MAGIC,    0x62656570 /* configfs */, PROC_SUPER_MAGIC,
};

int openat2_errno(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve,
                  UniqueFd& out) {
    open_how how{};
    how.flags = flags | O_CLOEXEC;
    how.mode = mode;
    how.resolve = resolve;
    for (;;) {
        const long fd = ::syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (fd >= 0) {
            out.reset(static_cast<int>(fd));
            return 0;
        }
        // EAGAIN: a concurrent rename moved something the walk went through; walk again.
        if (errno != EAGAIN && errno != EINTR) return errno;
    }
}

// The kind of file system `fd` is on: 2 procfs, 1 another pseudo file system, 0 data.
int pseudo_kind(int fd) {
    struct statfs sfs {};
    if (::fstatfs(fd, &sfs) != 0) return 0;
    const int64_t type = static_cast<int64_t>(sfs.f_type);
    if (type == PROC_SUPER_MAGIC) return 2;
    for (int64_t t : PSEUDO_FS)
        if (t == type) return 1;
    return 0;
}

// Type checks after an open: only regular files and directories, and the inode is the one
// `expect` (the O_PATH look before the open) saw.
int check_opened(const UniqueFd& fd, const struct stat& expect) {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return errno;
    if (st.st_dev != expect.st_dev || st.st_ino != expect.st_ino) return EAGAIN;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return ENXIO;
    return 0;
}

int check_openable(int opath_fd, int flags, struct stat& st) {
    if (int e = stat_fd(opath_fd, st)) return e;
    if (S_ISLNK(st.st_mode)) return ELOOP;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return ENXIO;
    const int kind = pseudo_kind(opath_fd);
    const bool writes = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0;
    if (kind == 2 || (kind == 1 && writes)) return EACCES;
    return 0;
}

} // namespace

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
    return name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

std::string join_path(std::string_view dir, std::string_view name) {
    std::string p(dir);
    if (!p.empty()) p += '/';
    p += name;
    return p;
}

std::string_view parent_of(std::string_view path) {
    const size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view name_of(std::string_view path) {
    const size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

int stat_fd(int fd, struct stat& st) {
    return ::fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
}

Result<ShareRoot> ShareRoot::open(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return sys_error(ErrorCode::Input, fmt::format("Cannot open shared directory {}", dir));
    UniqueFd root(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return sys_error(ErrorCode::Input, fmt::format("Cannot stat shared directory {}", dir));
    return ShareRoot(std::move(root), st.st_dev);
}

int ShareRoot::resolve(std::string_view path, UniqueFd& out) const {
    const std::string p = path.empty() ? std::string(".") : std::string(path);
    return openat2_errno(root_.get(), p.c_str(), O_PATH | O_NOFOLLOW, 0,
                         RESOLVE_IN_ROOT | NO_LINKS, out);
}

int ShareRoot::resolve_dir(std::string_view path, UniqueFd& out) const {
    const std::string p = path.empty() ? std::string(".") : std::string(path);
    return openat2_errno(root_.get(), p.c_str(), O_PATH | O_NOFOLLOW | O_DIRECTORY, 0,
                         RESOLVE_IN_ROOT | NO_LINKS, out);
}

int ShareRoot::lookup(int dirfd, std::string_view name, UniqueFd& out) const {
    if (!valid_name(name)) return EINVAL;
    const std::string n(name);
    return openat2_errno(dirfd, n.c_str(), O_PATH | O_NOFOLLOW, 0, RESOLVE_BENEATH | NO_LINKS,
                         out);
}

int ShareRoot::open_file(std::string_view path, int flags, UniqueFd& out) const {
    UniqueFd look;
    if (int e = resolve(path, look)) return e;
    struct stat st {};
    if (int e = check_openable(look.get(), flags, st)) return e;
    if (S_ISDIR(st.st_mode) && (flags & O_ACCMODE) != O_RDONLY) return EISDIR;
    const std::string p = path.empty() ? std::string(".") : std::string(path);
    // O_NONBLOCK: should the file have been swapped for a fifo since the look, the open does
    // not wait for a writer (the swap is then refused by check_opened).
    UniqueFd fd;
    const uint64_t f = static_cast<uint64_t>(flags) | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
    if (int e = openat2_errno(root_.get(), p.c_str(), f, 0, RESOLVE_IN_ROOT | NO_LINKS, fd))
        return e;
    if (int e = check_opened(fd, st)) return e;
    out = std::move(fd);
    return 0;
}

int ShareRoot::create_file(int dirfd, std::string_view name, int flags, mode_t mode,
                           UniqueFd& out) const {
    if (!valid_name(name)) return EINVAL;
    if (int e = check_mutable(dirfd)) return e;
    const std::string n(name);
    const uint64_t f = static_cast<uint64_t>(flags) | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
    UniqueFd fd;
    if (int e = openat2_errno(dirfd, n.c_str(), f, mode & 07777, RESOLVE_BENEATH | NO_LINKS, fd))
        return e;
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return errno;
    if (!S_ISREG(st.st_mode)) return ENXIO;   // O_CREAT without O_EXCL met a fifo, say
    out = std::move(fd);
    return 0;
}

int ShareRoot::check_mutable(int fd) { return pseudo_kind(fd) != 0 ? EACCES : 0; }

Qid ShareRoot::qid(const struct stat& st) const {
    Qid q;
    q.type = S_ISDIR(st.st_mode) ? QT_DIR : S_ISLNK(st.st_mode) ? QT_SYMLINK : QT_FILE;
    q.version = 0;
    // Inode numbers of other file systems mounted inside the share are mixed with their
    // device number, so two files of different file systems do not share a qid path.
    q.path = static_cast<uint64_t>(st.st_ino);
    if (st.st_dev != dev_)
        q.path ^= (static_cast<uint64_t>(st.st_dev) * 0x9e3779b97f4a7c15ull) & 0xffff000000000000ull;
    return q;
}

} // namespace minivmm::p9
