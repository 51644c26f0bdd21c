// P9Server against a real temporary tree: the session (Tversion, Tattach, Twalk, Tclunk), the
// reads and the writes a Linux client makes, a read-only share refusing every change with
// EROFS, and the bounds (msize, fids, malformed messages).
#include "p9/p9_server.hpp"

#include <cerrno>
#include <algorithm>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "p9_client.hpp"
#include "share_tree.hpp"

namespace minivmm::p9::test {
namespace {

TEST(P9Server, NegotiatesTheVersionAndTheMessageSize) {
    ShareTree tree;
    auto server = tree.server(Access::ReadOnly);
    P9Client c(*server);
    uint32_t msize = 0;
    std::string v;
    ASSERT_EQ(c.version(8192, "9P2000.L", &msize, &v), 0);
    EXPECT_EQ(msize, 8192u);
    EXPECT_EQ(v, "9P2000.L");
    ASSERT_EQ(c.version(64u << 20, "9P2000.L", &msize, &v), 0);
    EXPECT_EQ(msize, P9Server::MAX_MSIZE);   // a client asking for more gets our most
    ASSERT_EQ(c.version(8192, "9P2000.u", &msize, &v), 0);
    EXPECT_EQ(v, "unknown");
    EXPECT_EQ(c.version(1024, "9P2000.L"), EINVAL);   // below Linux's own minimum
}

TEST(P9Server, TversionClunksEveryFid) {
    Session s(Access::ReadOnly);
    P9Client& c = s.client;
    ASSERT_EQ(c.walk(0, 1, {"file"}), 0);
    EXPECT_EQ(s.server->fid_count(), 2u);
    ASSERT_EQ(c.version(8192, "9P2000.L"), 0);
    EXPECT_EQ(s.server->fid_count(), 0u);
    EXPECT_EQ(c.getattr(1), EBADF);
}

TEST(P9Server, WalksReadsAndListsTheTree) {
    Session s(Access::ReadOnly);
    P9Client& c = s.client;
    std::vector<Qid> qids;
    ASSERT_EQ(c.walk(0, 1, {"dir", "inner"}, &qids), 0);
    ASSERT_EQ(qids.size(), 2u);
    EXPECT_EQ(qids[0].type, QT_DIR);
    EXPECT_EQ(qids[1].type, QT_FILE);
    struct stat st {};
    ASSERT_EQ(::stat((s.tree.share() + "/dir/inner").c_str(), &st), 0);
    EXPECT_EQ(qids[1].path, st.st_ino);
    ASSERT_EQ(c.lopen(1, RDONLY), 0);
    std::string data;
    ASSERT_EQ(c.read_all(1, data), 0);
    EXPECT_EQ(data, "inner");
    EXPECT_EQ(c.lopen(1, RDONLY), EBADF);   // already open
    uint32_t mode = 0;
    uint64_t size = 0;
    ASSERT_EQ(c.getattr(1, &mode, &size), 0);
    EXPECT_TRUE(S_ISREG(mode));
    EXPECT_EQ(size, 5u);

    ASSERT_EQ(c.walk(0, 2, {}), 0);   // a clone of the root
    ASSERT_EQ(c.lopen(2, RDONLY), 0);
    std::vector<std::string> names;
    ASSERT_EQ(c.readdir(2, names), 0);
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{".", "..", "abs", "absdir", "dir", "file", "inlink",
                                               "rel", "reldir"}));
    ASSERT_EQ(c.walk(0, 3, {"inlink"}, &qids), 0);
    EXPECT_EQ(qids[0].type, QT_SYMLINK);
    std::string target;
    ASSERT_EQ(c.readlink(3, target), 0);
    EXPECT_EQ(target, "file");
    EXPECT_EQ(c.statfs(0), 0);
    EXPECT_EQ(c.clunk(3), 0);
    EXPECT_EQ(c.clunk(3), EBADF);
}

TEST(P9Server, APartialWalkGivesTheQidsSoFarAndNoNewFid) {
    Session s(Access::ReadOnly);
    P9Client& c = s.client;
    std::vector<Qid> qids;
    ASSERT_EQ(c.walk(0, 1, {"dir", "missing", "x"}, &qids), 0);
    EXPECT_EQ(qids.size(), 1u);
    EXPECT_EQ(c.getattr(1), EBADF);
    EXPECT_EQ(c.walk(0, 1, {"missing"}), ENOENT);   // the first name fails: an error
    EXPECT_EQ(c.walk(0, 0, {"dir"}), 0);            // fid == newfid moves it
    ASSERT_EQ(c.walk(0, 1, {"inner"}), 0);
    EXPECT_EQ(c.walk(0, 1, {"inner"}), EBADF);       // newfid in use
    EXPECT_EQ(c.walk(7, 8, {"dir"}), EBADF);         // no such fid
}

TEST(P9Server, ARwShareChangesLandOnTheHost) {
    Session s(Access::ReadWrite);
    P9Client& c = s.client;
    ASSERT_EQ(c.walk(0, 1, {}), 0);
    ASSERT_EQ(c.lcreate(1, "new", RDWR | CREATE, 0640), 0);
    uint32_t written = 0;
    ASSERT_EQ(c.write(1, 0, "written by the guest", &written), 0);
    EXPECT_EQ(written, 20u);
    EXPECT_EQ(c.fsync(1), 0);
    EXPECT_EQ(ShareTree::get(s.tree.share() + "/new"), "written by the guest");
    ASSERT_EQ(c.mkdir(0, "made", 0755), 0);
    EXPECT_TRUE(std::filesystem::is_directory(s.tree.share() + "/made"));
    ASSERT_EQ(c.renameat(0, "new", 0, "renamed"), 0);
    EXPECT_FALSE(ShareTree::exists(s.tree.share() + "/new"));
    // The open fid followed the rename: its getattr and a rename of it use the new path.
    uint64_t size = 0;
    ASSERT_EQ(c.getattr(1, nullptr, &size), 0);
    EXPECT_EQ(size, 20u);
    ASSERT_EQ(c.walk(0, 2, {"made"}), 0);
    ASSERT_EQ(c.rename(1, 2, "moved"), 0);
    EXPECT_EQ(ShareTree::get(s.tree.share() + "/made/moved"), "written by the guest");
    ASSERT_EQ(c.walk(2, 3, {"moved"}), 0);
    ASSERT_EQ(c.setattr(3, SETATTR_SIZE | SETATTR_MODE, 0600, 7), 0);
    EXPECT_EQ(ShareTree::get(s.tree.share() + "/made/moved"), "written");
    struct stat st {};
    ASSERT_EQ(::stat((s.tree.share() + "/made/moved").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    ASSERT_EQ(c.symlink(0, "ln", "made/moved"), 0);
    EXPECT_EQ(std::filesystem::read_symlink(s.tree.share() + "/ln"), "made/moved");
    ASSERT_EQ(c.link(0, 3, "hard"), 0);
    EXPECT_EQ(ShareTree::get(s.tree.share() + "/hard"), "written");
    ASSERT_EQ(c.mknod(0, "fifo", S_IFIFO | 0600), 0);
    EXPECT_TRUE(std::filesystem::is_fifo(s.tree.share() + "/fifo"));
    ASSERT_EQ(c.unlinkat(0, "hard", 0), 0);
    EXPECT_FALSE(ShareTree::exists(s.tree.share() + "/hard"));
    EXPECT_EQ(c.unlinkat(2, "moved", DOTL_AT_REMOVEDIR), ENOTDIR);
    ASSERT_EQ(c.remove(3), 0);
    EXPECT_FALSE(ShareTree::exists(s.tree.share() + "/made/moved"));
    EXPECT_EQ(c.getattr(3), EBADF);   // Tremove clunked it
    ASSERT_EQ(c.unlinkat(0, "made", DOTL_AT_REMOVEDIR), 0);
    EXPECT_FALSE(ShareTree::exists(s.tree.share() + "/made"));
    EXPECT_TRUE(s.tree.outside_untouched());
}

// Linux truncates and chmods an open file through its open fid: that works on the file the fid
// opened, even once the host has removed its name.
TEST(P9Server, AnOpenFidKeepsItsFileAfterTheHostUnlinksIt) {
    Session s(Access::ReadWrite);
    P9Client& c = s.client;
    ASSERT_EQ(c.walk(0, 1, {}), 0);
    ASSERT_EQ(c.lcreate(1, "tmp", RDWR | CREATE, 0644), 0);
    ASSERT_EQ(c.write(1, 0, "abcdef"), 0);
    ASSERT_EQ(::unlink((s.tree.share() + "/tmp").c_str()), 0);
    ASSERT_EQ(c.setattr(1, SETATTR_SIZE | SETATTR_MODE | SETATTR_MTIME, 0600, 2), 0);
    uint32_t mode = 0;
    uint64_t size = 0;
    ASSERT_EQ(c.getattr(1, &mode, &size), 0);
    EXPECT_EQ(size, 2u);
    EXPECT_EQ(mode & 07777, 0600u);
    std::string data;
    ASSERT_EQ(c.read(1, 0, 100, data), 0);
    EXPECT_EQ(data, "ab");
}

TEST(P9Server, AReadOnlyShareRefusesEveryChangeWithErofs) {
    Session s(Access::ReadOnly);
    P9Client& c = s.client;
    ASSERT_EQ(c.walk(0, 1, {"file"}), 0);
    ASSERT_EQ(c.walk(0, 2, {"dir"}), 0);
    ASSERT_EQ(c.walk(0, 3, {}), 0);
    EXPECT_EQ(c.lopen(1, WRONLY), EROFS);
    EXPECT_EQ(c.lopen(1, RDWR), EROFS);
    EXPECT_EQ(c.lopen(1, RDONLY | TRUNC), EROFS);
    EXPECT_EQ(c.lcreate(3, "new", RDWR | CREATE, 0644), EROFS);
    EXPECT_EQ(c.mkdir(0, "made", 0755), EROFS);
    EXPECT_EQ(c.mknod(0, "fifo", S_IFIFO | 0600), EROFS);
    EXPECT_EQ(c.symlink(0, "ln", "file"), EROFS);
    EXPECT_EQ(c.link(0, 1, "hard"), EROFS);
    EXPECT_EQ(c.rename(1, 0, "renamed"), EROFS);
    EXPECT_EQ(c.renameat(0, "file", 0, "renamed"), EROFS);
    EXPECT_EQ(c.unlinkat(0, "file", 0), EROFS);
    EXPECT_EQ(c.unlinkat(0, "dir", DOTL_AT_REMOVEDIR), EROFS);
    EXPECT_EQ(c.setattr(1, SETATTR_SIZE, 0, 0), EROFS);
    EXPECT_EQ(c.setattr(1, SETATTR_MODE, 0777, 0), EROFS);
    EXPECT_EQ(c.remove(2), EROFS);
    ASSERT_EQ(c.lopen(1, RDONLY), 0);
    EXPECT_EQ(c.write(1, 0, "x"), EBADF);   // open for reading only
    EXPECT_EQ(ShareTree::get(s.tree.share() + "/file"), "hello, share\n");
    EXPECT_TRUE(std::filesystem::is_directory(s.tree.share() + "/dir"));
    EXPECT_FALSE(ShareTree::exists(s.tree.share() + "/new"));
    EXPECT_FALSE(ShareTree::exists(s.tree.share() + "/made"));
    EXPECT_FALSE(ShareTree::exists(s.tree.share() + "/renamed"));
    struct stat st {};
    ASSERT_EQ(::stat((s.tree.share() + "/file").c_str(), &st), 0);
    EXPECT_NE(st.st_mode & 07777, 0777u);
}

TEST(P9Server, ReadsAreBoundedByTheReplyRoom) {
    ShareTree tree;
    ShareTree::put(tree.share() + "/big", std::string(100000, 'b'));
    auto server = tree.server(Access::ReadOnly);
    P9Client c(*server);
    ASSERT_EQ(c.start(), 0);
    ASSERT_EQ(c.walk(0, 1, {"big"}), 0);
    ASSERT_EQ(c.lopen(1, RDONLY), 0);
    Reply r = c.call(TREAD, [](WireWriter& w) {
        w.u32(1);
        w.u64(0);
        w.u32(0xffffffff);   // far more than msize
    }, 1000);
    ASSERT_EQ(r.error(), 0);
    EXPECT_EQ(r.bytes.size(), 1000u);
    WireReader b = r.body();
    EXPECT_EQ(b.u32(), 1000u - 11);
    // A reply with no room for an Rlerror: no reply at all.
    std::vector<uint8_t> reply;
    std::vector<uint8_t> clunk = {11, 0, 0, 0, TCLUNK, 1, 0, 1, 0, 0, 0};
    EXPECT_FALSE(server->handle(clunk, reply, 10));
}

TEST(P9Server, MalformedRequestsGetEinval) {
    Session s(Access::ReadWrite);
    P9Client& c = s.client;
    // A string longer than the message.
    EXPECT_EQ(c.call(TWALK, [](WireWriter& w) {
                   w.u32(0);
                   w.u32(1);
                   w.u16(1);
                   w.u16(200);
                   w.bytes(std::vector<uint8_t>(5, 'a'));
               }).error(),
              EINVAL);
    // More than 16 names.
    EXPECT_EQ(c.walk(0, 1, std::vector<std::string>(17, "dir")), EINVAL);
    // A name over 255 bytes, names with '/', "", "." and "..".
    EXPECT_EQ(c.walk(0, 1, {std::string(256, 'a')}), EINVAL);
    EXPECT_EQ(c.lcreate(0, "a/b", RDWR, 0644), EINVAL);
    EXPECT_EQ(c.mkdir(0, "", 0755), EINVAL);
    EXPECT_EQ(c.mkdir(0, ".", 0755), EINVAL);
    EXPECT_EQ(c.mkdir(0, "..", 0755), EINVAL);
    EXPECT_EQ(c.symlink(0, "x/y", "file"), EINVAL);
    EXPECT_EQ(c.renameat(0, "file", 0, "../file"), EINVAL);
    EXPECT_EQ(c.unlinkat(0, "..", 0), EINVAL);
    EXPECT_EQ(c.unlinkat(0, "file", 0x100), EINVAL);   // only AT_REMOVEDIR
    EXPECT_EQ(c.walk(0, 1, {std::string("b\0c", 3)}), EINVAL);
    // Truncated bodies, unknown and 9P2000 types.
    EXPECT_EQ(c.call(TREAD, [](WireWriter& w) { w.u32(0); }).error(), EINVAL);
    EXPECT_EQ(c.call(TXATTRWALK, [](WireWriter& w) { w.u32(0); }).error(), EOPNOTSUPP);
    EXPECT_EQ(c.call(112 /* Topen */, [](WireWriter& w) { w.u32(0); }).error(), EOPNOTSUPP);
    EXPECT_EQ(c.call(0, [](WireWriter&) {}).error(), EOPNOTSUPP);
    EXPECT_EQ(c.call(TATTACH, [](WireWriter& w) {
                   w.u32(5);
                   w.u32(9);   // an afid: no authentication here
                   w.str("u");
                   w.str("");
                   w.u32(0);
               }).error(),
              EOPNOTSUPP);
    EXPECT_EQ(c.mknod(0, "dev", S_IFCHR | 0600), EPERM);
    EXPECT_EQ(c.mknod(0, "blk", S_IFBLK | 0600), EPERM);
    EXPECT_TRUE(s.tree.outside_untouched());
}

TEST(P9Server, FidsAreBounded) {
    Session s(Access::ReadOnly);
    P9Client& c = s.client;
    for (uint32_t fid = 1; fid < P9Server::MAX_FIDS; ++fid) ASSERT_EQ(c.walk(0, fid, {}), 0);
    EXPECT_EQ(s.server->fid_count(), P9Server::MAX_FIDS);
    EXPECT_EQ(c.walk(0, P9Server::MAX_FIDS, {}), ENFILE);
    EXPECT_EQ(c.attach(P9Server::MAX_FIDS + 1), ENFILE);
    EXPECT_EQ(c.walk(0, NOFID, {}), EBADF);
    ASSERT_EQ(c.clunk(5), 0);
    EXPECT_EQ(c.walk(0, 5, {}), 0);
}

TEST(P9Server, OpenFilesAreBounded) {
    ShareTree tree;
    auto root = ShareRoot::open(tree.share());
    ASSERT_TRUE(root);
    P9Server server(std::move(*root), Access::ReadWrite, 2);
    P9Client c(server);
    ASSERT_EQ(c.start(), 0);
    for (uint32_t fid = 1; fid <= 4; ++fid) ASSERT_EQ(c.walk(0, fid, {"file"}), 0);
    EXPECT_EQ(c.lopen(1, RDONLY), 0);
    EXPECT_EQ(c.lopen(2, RDONLY), 0);
    EXPECT_EQ(c.lopen(3, RDONLY), EMFILE);
    ASSERT_EQ(c.walk(0, 5, {}), 0);
    EXPECT_EQ(c.lcreate(5, "new", RDWR | CREATE, 0644), EMFILE);
    EXPECT_EQ(server.open_count(), 2u);
    ASSERT_EQ(c.clunk(1), 0);
    EXPECT_EQ(c.lopen(3, RDONLY), 0);
    ASSERT_EQ(c.remove(2), 0);   // a removed open fid gives its descriptor back too
    ASSERT_EQ(c.walk(0, 6, {"dir", "inner"}), 0);
    EXPECT_EQ(c.lopen(6, RDONLY), 0);
    EXPECT_EQ(server.open_count(), 2u);
    ASSERT_EQ(c.version(8192, "9P2000.L"), 0);
    EXPECT_EQ(server.open_count(), 0u);
}

TEST(P9Server, LocksAreTheGuestsOwn) {
    Session s(Access::ReadWrite);
    P9Client& c = s.client;
    auto lock = [&](uint32_t fid, uint8_t type) {
        return c.call(TLOCK, [&](WireWriter& w) {
            w.u32(fid);
            w.u8(type);
            w.u32(0);
            w.u64(0);
            w.u64(0);
            w.u32(42);
            w.str("guest");
        });
    };
    Reply r = lock(0, LOCK_TYPE_WRLCK);
    ASSERT_EQ(r.error(), 0);
    WireReader b = r.body();
    EXPECT_EQ(b.u8(), LOCK_SUCCESS);
    EXPECT_EQ(lock(0, 7).error(), EINVAL);
    EXPECT_EQ(lock(9, LOCK_TYPE_RDLCK).error(), EBADF);
}

} // namespace
} // namespace minivmm::p9::test
