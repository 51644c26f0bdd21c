// P9Server: changes to the share: Tsetattr, Tmkdir, Tmknod, Tsymlink, Tlink, Trename,
// Trenameat, Tunlinkat, Tremove. A read-only share refuses each with EROFS. Every change names
// one component in a directory resolved inside the share, and uses the *at() call that does
// not follow a symlink in that last component (mkdirat, mknodat, symlinkat, linkat without
// AT_SYMLINK_FOLLOW, renameat, unlinkat), or acts on an O_PATH descriptor of the file itself.
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

#include "p9/p9_protocol.hpp"
#include "p9/p9_server.hpp"

namespace minivmm::p9 {

namespace {

timespec time_of(uint32_t valid, uint32_t given, uint32_t set, uint64_t sec, uint64_t nsec) {
    if (!(valid & given)) return {0, UTIME_OMIT};
    if (!(valid & set)) return {0, UTIME_NOW};
    return {static_cast<time_t>(sec), static_cast<long>(nsec % 1000000000)};
}

} // namespace

int P9Server::reply_made(int dirfd, std::string_view name, WireWriter& out) const {
    UniqueFd made;
    Qid q;
    if (int e = root_.lookup(dirfd, name, made)) return e;
    if (int e = qid_at(made.get(), q)) return e;
    out.qid(q);
    return 0;
}

int P9Server::dir_for_change(uint32_t dfid, std::string_view name, UniqueFd& dir,
                             std::string* path) {
    if (!writable()) return EROFS;
    Fid* d = find(dfid);
    if (d == nullptr) return EBADF;
    if (!valid_name(name)) return EINVAL;
    if (path != nullptr) {
        *path = join_path(d->path, name);
        if (path->size() > MAX_PATH) return ENAMETOOLONG;
    }
    if (int e = root_.resolve_dir(d->path, dir)) return e;
    return ShareRoot::check_mutable(dir.get());
}

int P9Server::setattr(WireReader& in, WireWriter&) {
    const uint32_t fid = in.u32();
    const uint32_t valid = in.u32();
    const uint32_t mode = in.u32();
    const uint32_t uid = in.u32();
    const uint32_t gid = in.u32();
    const uint64_t size = in.u64();
    const uint64_t atime_sec = in.u64(), atime_nsec = in.u64();
    const uint64_t mtime_sec = in.u64(), mtime_nsec = in.u64();
    if (!in.ok()) return EINVAL;
    Fid* f = find(fid);
    if (f == nullptr) return EBADF;
    if (!writable()) return EROFS;
    // An open fid acts on its own descriptor (the file may have been unlinked or renamed by
    // the host since), any other on an O_PATH descriptor of its path.
    UniqueFd look;
    int target = f->fd.get();
    if (!f->fd.valid()) {
        if (int e = root_.resolve(f->path, look)) return e;
        target = look.get();
    }
    if (int e = ShareRoot::check_mutable(target)) return e;
    if ((valid & SETATTR_MODE) && f->fd.valid()) {
        if (::fchmod(target, static_cast<mode_t>(mode & 07777)) != 0) return errno;
    } else if (valid & SETATTR_MODE) {
        // chmod by name in its directory, after checking the file is not a symlink: fchmodat
        // follows one, and the O_PATH descriptor cannot be chmod-ed (fchmodat2 with
        // AT_SYMLINK_NOFOLLOW, Linux 6.6, is not in every host's kernel nor libseccomp). Only a
        // host process could swap a symlink in between: the guest's requests run one at a time.
        struct stat st {};
        if (int e = stat_fd(target, st)) return e;
        if (S_ISLNK(st.st_mode)) return EOPNOTSUPP;
        UniqueFd dir;
        const bool top = f->path.empty();
        if (int e = root_.resolve_dir(top ? "" : parent_of(f->path), dir)) return e;
        const std::string name = top ? "." : std::string(name_of(f->path));
        if (::fchmodat(dir.get(), name.c_str(), static_cast<mode_t>(mode & 07777), 0) != 0)
            return errno;
    }
    if (valid & (SETATTR_UID | SETATTR_GID)) {
        const uid_t u = (valid & SETATTR_UID) ? uid : static_cast<uid_t>(-1);
        const gid_t g = (valid & SETATTR_GID) ? gid : static_cast<gid_t>(-1);
        if (::fchownat(target, "", u, g, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return errno;
    }
    if (valid & SETATTR_SIZE) {
        if (size > INT64_MAX) return EINVAL;
        UniqueFd opened;
        int fd = f->fd.get();
        if (!f->fd.valid() || (f->flags & O_ACCMODE) == O_RDONLY) {
            if (int e = root_.open_file(f->path, O_WRONLY, opened)) return e;
            fd = opened.get();
        }
        if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return errno;
    }
    if (valid & (SETATTR_ATIME | SETATTR_MTIME)) {
        const timespec ts[2] = {
            time_of(valid, SETATTR_ATIME, SETATTR_ATIME_SET, atime_sec, atime_nsec),
            time_of(valid, SETATTR_MTIME, SETATTR_MTIME_SET, mtime_sec, mtime_nsec)};
        if (::utimensat(target, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) return errno;
    }
    return 0;   // SETATTR_CTIME alone: the host updates ctime with any change
}

int P9Server::mkdir(WireReader& in, WireWriter& out) {
    const uint32_t dfid = in.u32();
    const std::string_view name = in.str(255);
    const uint32_t mode = in.u32();
    (void)in.u32();   // gid
    if (!in.ok()) return EINVAL;
    UniqueFd dir;
    if (int e = dir_for_change(dfid, name, dir, nullptr)) return e;
    const std::string n(name);
    if (::mkdirat(dir.get(), n.c_str(), static_cast<mode_t>(mode & 07777)) != 0) return errno;
    return reply_made(dir.get(), name, out);
}

// Regular files, fifos and sockets only: a device node made in the share would be the host's
// device to any host process that opened it.
int P9Server::mknod(WireReader& in, WireWriter& out) {
    const uint32_t dfid = in.u32();
    const std::string_view name = in.str(255);
    const uint32_t mode = in.u32();
    (void)in.u32();   // major
    (void)in.u32();   // minor
    (void)in.u32();   // gid
    if (!in.ok()) return EINVAL;
    UniqueFd dir;
    if (int e = dir_for_change(dfid, name, dir, nullptr)) return e;
    const mode_t type = static_cast<mode_t>(mode) & S_IFMT;
    if (type == S_IFCHR || type == S_IFBLK) return EPERM;
    if (type != S_IFREG && type != S_IFIFO && type != S_IFSOCK) return EINVAL;
    const std::string n(name);
    if (::mknodat(dir.get(), n.c_str(), type | (mode & 07777), 0) != 0) return errno;
    return reply_made(dir.get(), name, out);
}

// The target is the guest's text, stored as is: the host never follows it for the guest.
int P9Server::symlink(WireReader& in, WireWriter& out) {
    const uint32_t dfid = in.u32();
    const std::string_view name = in.str(255);
    const std::string_view target = in.str(MAX_PATH);
    (void)in.u32();   // gid
    if (!in.ok()) return EINVAL;
    UniqueFd dir;
    if (int e = dir_for_change(dfid, name, dir, nullptr)) return e;
    if (target.empty() || target.find('\0') != std::string_view::npos) return ENOENT;
    const std::string n(name), t(target);
    if (::symlinkat(t.c_str(), dir.get(), n.c_str()) != 0) return errno;
    return reply_made(dir.get(), name, out);
}

// The source is a fid, so a file inside the share; linkat without AT_SYMLINK_FOLLOW links a
// symlink itself, never what it points at.
int P9Server::link(WireReader& in, WireWriter&) {
    const uint32_t dfid = in.u32();
    const uint32_t fid = in.u32();
    const std::string_view name = in.str(255);
    if (!in.ok()) return EINVAL;
    UniqueFd dir, src_dir;
    if (int e = dir_for_change(dfid, name, dir, nullptr)) return e;
    Fid* f = find(fid);
    if (f == nullptr) return EBADF;
    if (f->path.empty()) return EPERM;   // the share's root is a directory
    if (int e = root_.resolve_dir(parent_of(f->path), src_dir)) return e;
    const std::string from(name_of(f->path)), to(name);
    if (::linkat(src_dir.get(), from.c_str(), dir.get(), to.c_str(), 0) != 0) return errno;
    return 0;
}

int P9Server::rename(WireReader& in, WireWriter&) {
    const uint32_t fid = in.u32();
    const uint32_t dfid = in.u32();
    const std::string_view name = in.str(255);
    if (!in.ok()) return EINVAL;
    UniqueFd dir, src_dir;
    std::string to;
    if (int e = dir_for_change(dfid, name, dir, &to)) return e;
    Fid* f = find(fid);
    if (f == nullptr) return EBADF;
    if (f->path.empty()) return EBUSY;
    const std::string from = f->path;
    if (int e = root_.resolve_dir(parent_of(from), src_dir)) return e;
    const std::string old_name(name_of(from)), new_name(name);
    if (::renameat(src_dir.get(), old_name.c_str(), dir.get(), new_name.c_str()) != 0) return errno;
    moved(from, to);
    return 0;
}

int P9Server::renameat(WireReader& in, WireWriter&) {
    const uint32_t olddir = in.u32();
    const std::string_view oldname = in.str(255);
    const uint32_t newdir = in.u32();
    const std::string_view newname = in.str(255);
    if (!in.ok()) return EINVAL;
    UniqueFd from_dir, to_dir;
    std::string from, to;
    if (int e = dir_for_change(olddir, oldname, from_dir, &from)) return e;
    if (int e = dir_for_change(newdir, newname, to_dir, &to)) return e;
    const std::string o(oldname), n(newname);
    if (::renameat(from_dir.get(), o.c_str(), to_dir.get(), n.c_str()) != 0) return errno;
    moved(from, to);
    return 0;
}

int P9Server::unlink_in(int dirfd, std::string_view name, int flags) {
    const std::string n(name);
    return ::unlinkat(dirfd, n.c_str(), flags) == 0 ? 0 : errno;
}

int P9Server::unlinkat(WireReader& in, WireWriter&) {
    const uint32_t dfid = in.u32();
    const std::string_view name = in.str(255);
    const uint32_t flags = in.u32();
    if (!in.ok()) return EINVAL;
    UniqueFd dir;
    if (int e = dir_for_change(dfid, name, dir, nullptr)) return e;
    if (flags & ~DOTL_AT_REMOVEDIR) return EINVAL;
    return unlink_in(dir.get(), name, (flags & DOTL_AT_REMOVEDIR) ? AT_REMOVEDIR : 0);
}

// Tremove clunks the fid whatever the outcome (9P).
int P9Server::remove(WireReader& in, WireWriter&) {
    const uint32_t fid = in.u32();
    if (!in.ok()) return EINVAL;
    Fid* f = find(fid);
    if (f == nullptr) return EBADF;
    const std::string path = f->path;
    drop_fid(fid);
    if (!writable()) return EROFS;
    if (path.empty()) return EBUSY;
    UniqueFd dir, look;
    if (int e = root_.resolve_dir(parent_of(path), dir)) return e;
    if (int e = ShareRoot::check_mutable(dir.get())) return e;
    const std::string_view name = name_of(path);
    if (int e = root_.lookup(dir.get(), name, look)) return e;
    struct stat st {};
    if (int e = stat_fd(look.get(), st)) return e;
    return unlink_in(dir.get(), name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
}

} // namespace minivmm::p9
