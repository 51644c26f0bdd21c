// P9Server: reading files and their attributes: Tgetattr, Tstatfs, Treadlink, Tlopen,
// Tlcreate, Tread, Twrite, Treaddir, Tfsync, Tlock, Tgetlock.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "p9/p9_protocol.hpp"
#include "p9/p9_server.hpp"

namespace minivmm::p9 {

namespace {

// Tlopen/Tlcreate flags (Linux's P9_DOTL_*) into the host's open flags; only what a share
// honours passes (creation, O_NOFOLLOW, O_NOATIME, O_DIRECT... are the server's to decide).
// Returns -1 for the access mode 3.
int host_open_flags(uint32_t dotl) {
    constexpr uint32_t DOTL_TRUNC = 01000, DOTL_APPEND = 02000, DOTL_DSYNC = 010000,
                       DOTL_DIRECTORY = 0200000, DOTL_SYNC = 04000000;
    const uint32_t access = dotl & 3;
    if (access == 3) return -1;
    int f = access == 0 ? O_RDONLY : access == 1 ? O_WRONLY : O_RDWR;
    if (dotl & DOTL_TRUNC) f |= O_TRUNC;
    if (dotl & DOTL_APPEND) f |= O_APPEND;
    if (dotl & DOTL_DSYNC) f |= O_DSYNC;
    if (dotl & DOTL_SYNC) f |= O_SYNC;
    if (dotl & DOTL_DIRECTORY) f |= O_DIRECTORY;
    return f;
}

bool writes(int flags) { return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0; }

} // namespace

int P9Server::getattr(WireReader& in, WireWriter& out) {
    const uint32_t fid = in.u32();
    (void)in.u64();   // request_mask: the basic fields are always sent
    if (!in.ok()) return EINVAL;
    Fid* f = find(fid);
    if (f == nullptr) return EBADF;
    UniqueFd look;
    int fd = f->fd.get();
    if (!f->fd.valid()) {
        if (int e = root_.resolve(f->path, look)) return e;
        fd = look.get();
    }
    struct stat st {};
    if (int e = stat_fd(fd, st)) return e;
    out.u64(GETATTR_BASIC);
    out.qid(root_.qid(st));
    out.u32(st.st_mode);
    out.u32(st.st_uid);
    out.u32(st.st_gid);
    out.u64(st.st_nlink);
    out.u64(st.st_rdev);
    out.u64(static_cast<uint64_t>(st.st_size));
    out.u64(static_cast<uint64_t>(st.st_blksize));
    out.u64(static_cast<uint64_t>(st.st_blocks));
    out.u64(static_cast<uint64_t>(st.st_atim.tv_sec));
    out.u64(static_cast<uint64_t>(st.st_atim.tv_nsec));
    out.u64(static_cast<uint64_t>(st.st_mtim.tv_sec));
    out.u64(static_cast<uint64_t>(st.st_mtim.tv_nsec));
    out.u64(static_cast<uint64_t>(st.st_ctim.tv_sec));
    out.u64(static_cast<uint64_t>(st.st_ctim.tv_nsec));
    for (int i = 0; i < 4; ++i) out.u64(0);   // btime, gen, data_version: not reported
    return 0;
}

int P9Server::statfs(WireReader& in, WireWriter& out) {
    UniqueFd fd;
    if (int e = resolve_fid(in, fd)) return e;
    struct statfs s {};
    if (::fstatfs(fd.get(), &s) != 0) return errno;
    uint64_t fsid = 0;
    std::memcpy(&fsid, &s.f_fsid, std::min(sizeof fsid, sizeof s.f_fsid));
    out.u32(static_cast<uint32_t>(s.f_type));
    out.u32(static_cast<uint32_t>(s.f_bsize));
    out.u64(s.f_blocks);
    out.u64(s.f_bfree);
    out.u64(s.f_bavail);
    out.u64(s.f_files);
    out.u64(s.f_ffree);
    out.u64(fsid);
    out.u32(static_cast<uint32_t>(s.f_namelen));
    return 0;
}

int P9Server::readlink(WireReader& in, WireWriter& out) {
    UniqueFd fd;
    if (int e = resolve_fid(in, fd)) return e;
    char target[MAX_PATH + 1];
    const ssize_t n = ::readlinkat(fd.get(), "", target, sizeof target);
    if (n < 0) return errno;
    if (static_cast<size_t>(n) > MAX_PATH) return ENAMETOOLONG;
    out.str({target, static_cast<size_t>(n)});
    return 0;
}

int P9Server::lopen(WireReader& in, WireWriter& out) {
    const uint32_t fid = in.u32();
    const uint32_t dotl = in.u32();
    if (!in.ok()) return EINVAL;
    Fid* f = find(fid);
    if (f == nullptr) return EBADF;
    if (f->fd.valid()) return EBADF;   // already open
    const int flags = host_open_flags(dotl);
    if (flags < 0) return EINVAL;
    if (writes(flags) && !writable()) return EROFS;
    if (open_ >= max_open_) return EMFILE;
    UniqueFd fd;
    if (int e = root_.open_file(f->path, flags, fd)) return e;
    Qid q;
    if (int e = qid_at(fd.get(), q)) return e;
    f->fd = std::move(fd);
    f->flags = flags;
    ++open_;
    out.qid(q);
    out.u32(0);   // iounit: the client uses msize
    return 0;
}

int P9Server::lcreate(WireReader& in, WireWriter& out) {
    const uint32_t fid = in.u32();
    const std::string_view name = in.str(255);
    const uint32_t dotl = in.u32();
    const uint32_t mode = in.u32();
    (void)in.u32();   // gid: files are created as the host user
    if (!in.ok()) return EINVAL;
    Fid* f = find(fid);
    if (f == nullptr) return EBADF;
    if (f->fd.valid()) return EBADF;
    if (!writable()) return EROFS;
    int flags = host_open_flags(dotl);
    if (flags < 0 || !valid_name(name)) return EINVAL;
    flags &= ~O_DIRECTORY;
    std::string path = join_path(f->path, name);
    if (path.size() > MAX_PATH) return ENAMETOOLONG;
    if (path.size() - f->path.size() > MAX_PATH_BYTES - path_bytes_) return ENFILE;
    if (open_ >= max_open_) return EMFILE;
    UniqueFd dir, fd;
    if (int e = root_.resolve_dir(f->path, dir)) return e;
    if (int e = root_.create_file(dir.get(), name, flags, static_cast<mode_t>(mode), fd)) return e;
    Qid q;
    if (int e = qid_at(fd.get(), q)) return e;
    path_bytes_ = path_bytes_ - f->path.size() + path.size();
    f->path = std::move(path);
    f->fd = std::move(fd);
    f->flags = flags;
    ++open_;
    out.qid(q);
    out.u32(0);
    return 0;
}

int P9Server::read(WireReader& in, WireWriter& out) {
    const uint32_t fid = in.u32();
    const uint64_t offset = in.u64();
    const uint32_t count = in.u32();
    if (!in.ok()) return EINVAL;
    Fid* f = find(fid);
    if (f == nullptr || !f->fd.valid() || (f->flags & O_ACCMODE) == O_WRONLY) return EBADF;
    if (offset > INT64_MAX) return EINVAL;
    const size_t n = std::min<size_t>(count, out.room() >= 4 ? out.room() - 4 : 0);
    const size_t count_at = out.size();
    out.u32(0);
    std::span<uint8_t> data = out.reserve(n);
    const ssize_t got = ::pread(f->fd.get(), data.data(), n, static_cast<off_t>(offset));
    if (got < 0) return errno;
    out.shrink(n - static_cast<size_t>(got));
    out.patch_u32(count_at, static_cast<uint32_t>(got));
    return 0;
}

int P9Server::write(WireReader& in, WireWriter& out) {
    const uint32_t fid = in.u32();
    const uint64_t offset = in.u64();
    const uint32_t count = in.u32();
    // Linux's zero-copy writes may carry fewer bytes than `count` says: what is there is written.
    const std::span<const uint8_t> data = in.bytes(std::min<size_t>(count, in.remaining()));
    if (!in.ok()) return EINVAL;
    Fid* f = find(fid);
    if (f == nullptr || !f->fd.valid() || (f->flags & O_ACCMODE) == O_RDONLY) return EBADF;
    if (!writable()) return EROFS;
    if (offset > INT64_MAX) return EINVAL;
    const ssize_t put = ::pwrite(f->fd.get(), data.data(), data.size(), static_cast<off_t>(offset));
    if (put < 0) return errno;
    out.u32(static_cast<uint32_t>(put));
    return 0;
}

// Treaddir: entries from the host's getdents64 at `offset` (the host's own d_off cookies, so
// a listing resumes where the last reply stopped), as many as fit in `count` and the reply.
int P9Server::readdir(WireReader& in, WireWriter& out) {
    const uint32_t fid = in.u32();
    const uint64_t offset = in.u64();
    const uint32_t count = in.u32();
    if (!in.ok()) return EINVAL;
    Fid* f = find(fid);
    if (f == nullptr || !f->fd.valid()) return EBADF;
    if (offset > INT64_MAX) return EINVAL;
    struct stat dir {};
    if (::fstat(f->fd.get(), &dir) != 0) return errno;
    if (!S_ISDIR(dir.st_mode)) return ENOTDIR;
    const size_t room = std::min<size_t>(count, out.room() >= 4 ? out.room() - 4 : 0);
    if (::lseek(f->fd.get(), static_cast<off_t>(offset), SEEK_SET) < 0) return errno;
    dirents_.resize(std::clamp<size_t>(room, 1024, 65536));
    const ssize_t got = ::getdents64(f->fd.get(), dirents_.data(), dirents_.size());
    if (got < 0) return errno;
    const size_t count_at = out.size();
    out.u32(0);
    size_t used = 0;
    unsigned entries = 0;
    constexpr size_t NAME_AT = offsetof(struct dirent64, d_name);
    for (size_t pos = 0; pos + NAME_AT <= static_cast<size_t>(got);) {
        struct dirent64 d;
        std::memcpy(&d, dirents_.data() + pos, NAME_AT);
        if (d.d_reclen < NAME_AT || d.d_reclen > static_cast<size_t>(got) - pos) break;
        const char* name_p = reinterpret_cast<const char*>(dirents_.data() + pos + NAME_AT);
        const size_t name_len = strnlen(name_p, d.d_reclen - NAME_AT);
        const size_t entry = QID_SIZE + 8 + 1 + 2 + name_len;
        if (entry > room - used) break;
        struct stat st {};
        st.st_dev = dir.st_dev;
        st.st_ino = d.d_ino;
        st.st_mode = d.d_type == DT_DIR ? S_IFDIR : d.d_type == DT_LNK ? S_IFLNK : S_IFREG;
        out.qid(root_.qid(st));
        out.u64(static_cast<uint64_t>(d.d_off));
        out.u8(d.d_type);
        out.str({name_p, name_len});
        used += entry;
        ++entries;
        pos += d.d_reclen;
    }
    // Entries there were, none fitted: an empty reply would mean the end of the directory.
    if (entries == 0 && got > 0) return EINVAL;
    out.patch_u32(count_at, static_cast<uint32_t>(used));
    return 0;
}

int P9Server::fsync(WireReader& in, WireWriter&) {
    const uint32_t fid = in.u32();
    if (!in.ok()) return EINVAL;
    const bool datasync = in.remaining() >= 4 && in.u32() != 0;   // newer clients send it
    Fid* f = find(fid);
    if (f == nullptr || !f->fd.valid()) return EBADF;
    const int r = datasync ? ::fdatasync(f->fd.get()) : ::fsync(f->fd.get());
    return r == 0 ? 0 : errno;
}

// POSIX locks: the guest's kernel keeps them (Linux's client takes every lock locally before it
// sends Tlock); the share takes none on the host, as QEMU's 9p server does. Tlock succeeds and
// Tgetlock reports no conflict, after checking the fid and the lock type.
int P9Server::lock(WireReader& in, WireWriter& out) {
    const uint32_t fid = in.u32();
    const uint8_t type = in.u8();
    (void)in.u32();   // flags
    (void)in.u64();   // start
    (void)in.u64();   // length
    (void)in.u32();   // proc_id
    (void)in.str(MAX_PATH);   // client_id
    if (!in.ok() || type > LOCK_TYPE_UNLCK) return EINVAL;
    if (find(fid) == nullptr) return EBADF;
    out.u8(LOCK_SUCCESS);
    return 0;
}

int P9Server::getlock(WireReader& in, WireWriter& out) {
    const uint32_t fid = in.u32();
    const uint8_t type = in.u8();
    const uint64_t start = in.u64();
    const uint64_t length = in.u64();
    const uint32_t proc_id = in.u32();
    const std::string_view client = in.str(MAX_PATH);
    if (!in.ok() || type > LOCK_TYPE_UNLCK) return EINVAL;
    if (find(fid) == nullptr) return EBADF;
    out.u8(LOCK_TYPE_UNLCK);
    out.u64(start);
    out.u64(length);
    out.u32(proc_id);
    out.str(client);
    return 0;
}

} // namespace minivmm::p9
