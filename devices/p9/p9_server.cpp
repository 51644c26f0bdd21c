// P9Server: the message loop, the fid table, Tversion, Tattach, Twalk, Tclunk, Tflush.
#include "p9/p9_server.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "p9/p9_protocol.hpp"

namespace minivmm::p9 {

size_t P9Server::default_max_open() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1024;
    return std::max<size_t>(64, static_cast<size_t>(limit.rlim_cur) / 4);
}

P9Server::P9Server(ShareRoot root, Access access, size_t max_open)
    : root_(std::move(root)), access_(access), max_open_(max_open) {}

bool P9Server::handle(std::span<const uint8_t> request, std::vector<uint8_t>& reply,
                      size_t capacity) {
    constexpr size_t RLERROR_SIZE = HEADER_SIZE + 4;
    if (request.size() < HEADER_SIZE || capacity < RLERROR_SIZE) return false;
    WireReader in(request);
    (void)in.u32();   // size: the caller matched it against the message
    const uint8_t type = in.u8();
    const uint16_t tag = in.u16();
    WireWriter out(reply, std::min(capacity, size_t{msize_}));
    out.u32(0);
    out.u8(static_cast<uint8_t>(type + 1));
    out.u16(tag);
    int err = dispatch(type, in, out);
    if (err == 0 && !out.ok()) err = EMSGSIZE;   // the reply did not fit the client's buffer
    if (err != 0) {
        WireWriter e(reply, capacity);
        e.u32(0);
        e.u8(RLERROR);
        e.u16(tag);
        e.u32(static_cast<uint32_t>(err));
    }
    const uint32_t size = static_cast<uint32_t>(reply.size());
    for (unsigned i = 0; i < 4; ++i) reply[i] = static_cast<uint8_t>(size >> (8 * i));
    return true;
}

int P9Server::dispatch(uint8_t type, WireReader& in, WireWriter& out) {
    switch (type) {
    case TVERSION: return version(in, out);
    case TATTACH: return attach(in, out);
    case TWALK: return walk(in, out);
    case TCLUNK: return clunk(in, out);
    case TFLUSH: return flush(in, out);
    case TGETATTR: return getattr(in, out);
    case TSTATFS: return statfs(in, out);
    case TREADLINK: return readlink(in, out);
    case TLOPEN: return lopen(in, out);
    case TLCREATE: return lcreate(in, out);
    case TREAD: return read(in, out);
    case TWRITE: return write(in, out);
    case TREADDIR: return readdir(in, out);
    case TFSYNC: return fsync(in, out);
    case TLOCK: return lock(in, out);
    case TGETLOCK: return getlock(in, out);
    case TSETATTR: return setattr(in, out);
    case TMKDIR: return mkdir(in, out);
    case TMKNOD: return mknod(in, out);
    case TSYMLINK: return symlink(in, out);
    case TLINK: return link(in, out);
    case TRENAME: return rename(in, out);
    case TRENAMEAT: return renameat(in, out);
    case TUNLINKAT: return unlinkat(in, out);
    case TREMOVE: return remove(in, out);
    // Extended attributes are not served: Linux's client treats EOPNOTSUPP as "none".
    case TXATTRWALK: case TXATTRCREATE:
    // No authentication (Tattach's afid must be NOFID); the 9P2000 and 9P2000.u messages
    // (Topen, Tcreate, Tstat, Twstat) are not 9P2000.L's.
    case TAUTH:
    default: return EOPNOTSUPP;
    }
}

void P9Server::end_session() {
    fids_.clear();
    path_bytes_ = 0;
    open_ = 0;
}

P9Server::Fid* P9Server::find(uint32_t id) {
    auto it = fids_.find(id);
    return it == fids_.end() ? nullptr : &it->second;
}

int P9Server::add_fid(uint32_t id, std::string path) {
    if (id == NOFID || fids_.count(id) != 0) return EBADF;
    if (fids_.size() >= MAX_FIDS || path.size() > MAX_PATH_BYTES - path_bytes_) return ENFILE;
    path_bytes_ += path.size();
    fids_[id].path = std::move(path);
    return 0;
}

void P9Server::drop_fid(uint32_t id) {
    auto it = fids_.find(id);
    if (it == fids_.end()) return;
    path_bytes_ -= it->second.path.size();
    if (it->second.fd.valid()) --open_;
    fids_.erase(it);
}

void P9Server::moved(const std::string& from, const std::string& to) {
    for (auto& [id, f] : fids_) {
        if (f.path != from && f.path.compare(0, from.size() + 1, from + "/") != 0) continue;
        std::string now = to + f.path.substr(from.size());
        if (now.size() > f.path.size() && now.size() - f.path.size() > MAX_PATH_BYTES - path_bytes_)
            continue;   // past the bound: the fid keeps its old path (and fails to resolve)
        path_bytes_ = path_bytes_ - f.path.size() + now.size();
        f.path = std::move(now);
    }
}

int P9Server::qid_at(int fd, Qid& q) const {
    struct stat st {};
    if (int e = stat_fd(fd, st)) return e;
    q = root_.qid(st);
    return 0;
}

int P9Server::qid_of(const Fid& f, Qid& q) const {
    if (f.fd.valid()) return qid_at(f.fd.get(), q);
    UniqueFd fd;
    if (int e = root_.resolve(f.path, fd)) return e;
    return qid_at(fd.get(), q);
}

int P9Server::resolve_fid(WireReader& in, UniqueFd& fd) {
    const uint32_t fid = in.u32();
    if (!in.ok()) return EINVAL;
    Fid* f = find(fid);
    if (f == nullptr) return EBADF;
    return root_.resolve(f->path, fd);
}

int P9Server::version(WireReader& in, WireWriter& out) {
    const uint32_t msize = in.u32();
    const std::string_view version = in.str(64);
    if (!in.ok()) return EINVAL;
    if (msize < MIN_MSIZE) return EINVAL;
    end_session();   // a new session: every fid of the old one is clunked
    msize_ = std::min(msize, MAX_MSIZE);
    out.u32(msize_);
    out.str(version == VERSION_9P2000_L ? std::string_view(VERSION_9P2000_L) : "unknown");
    return 0;
}

int P9Server::attach(WireReader& in, WireWriter& out) {
    const uint32_t fid = in.u32();
    const uint32_t afid = in.u32();
    (void)in.str(MAX_PATH);   // uname
    (void)in.str(MAX_PATH);   // aname: every attach is to the share's root
    (void)in.u32();           // n_uname: files are the host user's, whoever the guest is
    if (!in.ok()) return EINVAL;
    if (afid != NOFID) return EOPNOTSUPP;
    Qid q;
    UniqueFd fd;
    if (int e = root_.resolve("", fd)) return e;
    if (int e = qid_at(fd.get(), q)) return e;
    if (int e = add_fid(fid, "")) return e;
    out.qid(q);
    return 0;
}

// Twalk: up to 16 names from `fid`; newfid gets the last one only when every name was walked.
// Each name is resolved under the directory the walk has reached (ShareRoot::lookup: one
// component, RESOLVE_BENEATH, no symlink); ".." is taken off the path and the path resolved
// again from the root, so ".." at the root stays at the root.
int P9Server::walk(WireReader& in, WireWriter& out) {
    const uint32_t fid = in.u32();
    const uint32_t newfid = in.u32();
    const uint16_t nwname = in.u16();
    if (!in.ok() || nwname > MAXWELEM) return EINVAL;
    std::string_view names[MAXWELEM];
    for (uint16_t i = 0; i < nwname; ++i) names[i] = in.str(255);
    if (!in.ok()) return EINVAL;
    Fid* f = find(fid);
    if (f == nullptr) return EBADF;
    if (newfid != fid && find(newfid) != nullptr) return EBADF;
    std::string path = f->path;
    Qid qids[MAXWELEM];
    uint16_t walked = 0;
    if (nwname > 0) {
        UniqueFd cur;
        if (int e = root_.resolve(path, cur)) return e;
        for (; walked < nwname; ++walked) {
            const std::string_view name = names[walked];
            UniqueFd next;
            std::string next_path;
            int e = 0;
            if (name == "..") {
                next_path = std::string(parent_of(path));
                e = root_.resolve(next_path, next);
            } else if (name == ".") {
                next_path = path;
                e = root_.resolve(next_path, next);
            } else {
                next_path = join_path(path, name);
                e = next_path.size() > MAX_PATH ? ENAMETOOLONG : root_.lookup(cur.get(), name, next);
            }
            if (e == 0) e = qid_at(next.get(), qids[walked]);
            if (e != 0) {
                if (walked == 0) return e;
                break;
            }
            cur = std::move(next);
            path = std::move(next_path);
        }
    }
    if (walked == nwname) {
        if (newfid == fid) {
            if (f->fd.valid()) return EBADF;   // an open fid does not move
            if (path.size() > f->path.size() &&
                path.size() - f->path.size() > MAX_PATH_BYTES - path_bytes_)
                return ENFILE;
            path_bytes_ = path_bytes_ - f->path.size() + path.size();
            f->path = std::move(path);
        } else if (int e = add_fid(newfid, std::move(path))) {
            return e;
        }
    }
    out.u16(walked);
    for (uint16_t i = 0; i < walked; ++i) out.qid(qids[i]);
    return 0;
}

int P9Server::clunk(WireReader& in, WireWriter&) {
    const uint32_t fid = in.u32();
    if (!in.ok()) return EINVAL;
    if (find(fid) == nullptr) return EBADF;
    drop_fid(fid);
    return 0;
}

// Requests are served one at a time, to completion: there is never one to cancel.
int P9Server::flush(WireReader& in, WireWriter&) {
    (void)in.u16();   // oldtag
    return in.ok() ? 0 : EINVAL;
}

} // namespace minivmm::p9
