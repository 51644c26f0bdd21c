// ShareRoot: the host directory of one share, and the only way the 9p server reaches host
// files. Containment: every path is resolved by the kernel with openat2() inside the share
// (RESOLVE_IN_ROOT from the share's root, or RESOLVE_BENEATH one component under a held
// directory), with RESOLVE_NO_SYMLINKS: no symbolic link is ever followed on the host (the
// guest resolves its symlinks itself, through Treadlink), so no path the guest names can leave
// the share, however the guest or a concurrent rename shapes the tree. Names are single
// components (valid_name); paths are share-relative, "" being the root, never with "." or "..".
// Errors are errno values (0: success), what an Rlerror carries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <sys/stat.h>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "p9/p9_wire.hpp"

namespace minivmm::p9 {

// A file name the guest may create or look up: 1..255 bytes, no '/' and no NUL, not "." or
// "..".
bool valid_name(std::string_view name);
// "a/b" + "c" = "a/b/c"; "" + "c" = "c".
std::string join_path(std::string_view dir, std::string_view name);
// The directory part and the last name of a non-root path ("a/b/c": "a/b" and "c").
std::string_view parent_of(std::string_view path);
std::string_view name_of(std::string_view path);

class ShareRoot {
public:
    // Opens `dir` (an existing directory; errors name it).
    static Result<ShareRoot> open(const std::string& dir);

    int fd() const { return root_.get(); }

    // An O_PATH descriptor of `path` itself (a symlink is not followed: the descriptor is the
    // link's).
    int resolve(std::string_view path, UniqueFd& out) const;
    // An O_PATH descriptor of the directory `path`.
    int resolve_dir(std::string_view path, UniqueFd& out) const;
    // An O_PATH descriptor of `name` (one component) in the directory `dirfd`.
    int lookup(int dirfd, std::string_view name, UniqueFd& out) const;
    // Opens `path` for I/O with `flags` (O_ACCMODE, O_TRUNC, O_APPEND, O_DIRECTORY, O_SYNC...):
    // only regular files and directories are opened (a symlink gives ELOOP, a device, fifo or
    // socket ENXIO: opening those on the host could block the I/O thread or act on a host
    // device); files of procfs are refused (EACCES), and opening for writing on a kernel
    // pseudo file system (sysfs, cgroup, debugfs, ...) too.
    int open_file(std::string_view path, int flags, UniqueFd& out) const;
    // Creates and opens the regular file `name` in `dirfd` (O_CREAT added; the other flags as
    // open_file; an existing symlink of that name is not followed: ELOOP).
    int create_file(int dirfd, std::string_view name, int flags, mode_t mode, UniqueFd& out) const;
    // A directory the guest is about to change something in (create, remove, rename, link):
    // EACCES when it is on a kernel pseudo file system.
    static int check_mutable(int fd);

    // The qid of a file the share holds.
    Qid qid(const struct stat& st) const;

private:
    explicit ShareRoot(UniqueFd root, dev_t dev) : root_(std::move(root)), dev_(dev) {}

    UniqueFd root_;   // O_PATH | O_DIRECTORY
    dev_t dev_;       // the share's own file system: its inode numbers are the qid paths as is
};

// fstatat(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW): the file `fd` refers to. Returns errno.
int stat_fd(int fd, struct stat& st);

} // namespace minivmm::p9
