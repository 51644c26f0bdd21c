// P9Server: a 9P2000.L file server over one ShareRoot. It turns one request message into one
// reply message; it knows nothing of virtio (P9Device carries the messages). Every request is
// served to completion before the next (Tflush has nothing to cancel).
//
// Bounds (guest-controlled input): a message is at most msize bytes (negotiated by Tversion,
// at most MAX_MSIZE); at most MAX_FIDS fids whose paths total at most MAX_PATH_BYTES, and at
// most `max_open` of them open (each holds a host descriptor: the guest must not take the
// descriptors the rest of minivmm needs; past it EMFILE); a walk
// has at most 16 names; every count, string length and name is checked against the message
// and msize before it is used; reads, directory listings and link targets are bounded by the
// reply's room. Errors are Rlerror with the host's errno (Linux's values).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "p9/p9_wire.hpp"
#include "p9/share_root.hpp"

namespace minivmm::p9 {

enum class Access { ReadOnly, ReadWrite };

class P9Server {
public:
    // Linux's 9p client over virtio asks for 512 KiB at most (its ring of 128 pages); 1 MiB
    // leaves room for any client and bounds the buffers a guest can make us hold.
    static constexpr uint32_t MAX_MSIZE = 1u << 20;
    static constexpr uint32_t MIN_MSIZE = 4096;   // Linux refuses less, as we do
    static constexpr size_t MAX_FIDS = 32768;
    static constexpr size_t MAX_PATH_BYTES = size_t{32} << 20;
    static constexpr size_t MAX_PATH = 4095;       // one share-relative path (PATH_MAX - 1)

    // A quarter of the process's descriptor limit (RLIMIT_NOFILE), at least 64.
    static size_t default_max_open();

    P9Server(ShareRoot root, Access access, size_t max_open = default_max_open());

    // Serves `request` (one whole message: its size field matches request.size(), checked by
    // the caller) and writes the reply into `reply`, at most `capacity` bytes. Returns false
    // when there is no reply to give (a header shorter than 7 bytes, or no room for even an
    // Rlerror): the caller completes the request empty.
    bool handle(std::span<const uint8_t> request, std::vector<uint8_t>& reply, size_t capacity);

    // Drops every fid (their open files are closed), as a Tversion does.
    void end_session();

    // The negotiated message size (MAX_MSIZE before Tversion).
    uint32_t msize() const { return msize_; }
    size_t fid_count() const { return fids_.size(); }
    size_t open_count() const { return open_; }
    bool writable() const { return access_ == Access::ReadWrite; }

private:
    struct Fid {
        std::string path;   // share-relative, "" for the root
        UniqueFd fd;        // open file or directory (Tlopen, Tlcreate), else not valid
        int flags = 0;      // its open flags
    };

    // Handlers: decode the request body from `in`, act, encode the reply body into `out`.
    // They return 0 or an errno (the reply becomes Rlerror).
    int version(WireReader& in, WireWriter& out);
    int attach(WireReader& in, WireWriter& out);
    int walk(WireReader& in, WireWriter& out);
    int clunk(WireReader& in, WireWriter& out);
    int flush(WireReader& in, WireWriter& out);
    int getattr(WireReader& in, WireWriter& out);
    int statfs(WireReader& in, WireWriter& out);
    int readlink(WireReader& in, WireWriter& out);
    int lopen(WireReader& in, WireWriter& out);
    int lcreate(WireReader& in, WireWriter& out);
    int read(WireReader& in, WireWriter& out);
    int write(WireReader& in, WireWriter& out);
    int readdir(WireReader& in, WireWriter& out);
    int fsync(WireReader& in, WireWriter& out);
    int lock(WireReader& in, WireWriter& out);
    int getlock(WireReader& in, WireWriter& out);
    int setattr(WireReader& in, WireWriter& out);
    int mkdir(WireReader& in, WireWriter& out);
    int mknod(WireReader& in, WireWriter& out);
    int symlink(WireReader& in, WireWriter& out);
    int link(WireReader& in, WireWriter& out);
    int rename(WireReader& in, WireWriter& out);
    int renameat(WireReader& in, WireWriter& out);
    int unlinkat(WireReader& in, WireWriter& out);
    int remove(WireReader& in, WireWriter& out);

    int dispatch(uint8_t type, WireReader& in, WireWriter& out);
    Fid* find(uint32_t id);
    // Adds fid `id` at `path` (EBADF when it exists, ENFILE past the bounds).
    int add_fid(uint32_t id, std::string path);
    void drop_fid(uint32_t id);
    // After a rename: every fid at or below `from` now lies below `to`.
    void moved(const std::string& from, const std::string& to);
    // The qid of `path` (or of the open fid's file).
    int qid_of(const Fid& f, Qid& q) const;
    int qid_at(int fd, Qid& q) const;
    // A request that is only a fid (Tstatfs, Treadlink): decoded, and its path resolved.
    int resolve_fid(WireReader& in, UniqueFd& fd);
    // After a Tmkdir, Tmknod or Tsymlink: the qid of `name` in `dirfd` as the reply.
    int reply_made(int dirfd, std::string_view name, WireWriter& out) const;
    // The directory fid `dfid` resolved, and `name` checked, for a change in it.
    int dir_for_change(uint32_t dfid, std::string_view name, UniqueFd& dir, std::string* path);
    int unlink_in(int dirfd, std::string_view name, int flags);

    ShareRoot root_;
    Access access_;
    uint32_t msize_ = MAX_MSIZE;
    std::unordered_map<uint32_t, Fid> fids_;
    size_t path_bytes_ = 0;
    size_t max_open_;
    size_t open_ = 0;   // fids with a descriptor
    std::vector<uint8_t> dirents_;   // Treaddir's host buffer
};

} // namespace minivmm::p9
