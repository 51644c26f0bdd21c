// Containment: every way out of a share we can think of, each against a real temporary tree
// with a secret outside the share and symlinks (absolute and relative) pointing at it: ".."
// walks, walks, opens, creates, renames, links, removes and attribute changes through those
// symlinks, a directory swapped for a symlink while walks run, hard links, device nodes, fifos,
// and procfs with its magic links.
#include "p9/p9_server.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <thread>

#include "p9_client.hpp"
#include "share_tree.hpp"

namespace minivmm::p9::test {
namespace {

class P9Escape : public ::testing::Test {
protected:
    void TearDown() override { EXPECT_TRUE(tree.outside_untouched()); }

    Session s{Access::ReadWrite};
    ShareTree& tree = s.tree;
    P9Server* server = s.server.get();
    P9Client* c = &s.client;
};

TEST_F(P9Escape, DotDotAtTheRootStaysAtTheRoot) {
    Qid root, up;
    ASSERT_EQ(c->getattr(0, nullptr, nullptr, &root), 0);
    std::vector<Qid> qids;
    ASSERT_EQ(c->walk(0, 1, {"..", "..", ".."}, &qids), 0);
    ASSERT_EQ(qids.size(), 3u);
    EXPECT_EQ(qids[2].path, root.path);
    ASSERT_EQ(c->getattr(1, nullptr, nullptr, &up), 0);
    EXPECT_EQ(up.path, root.path);
    // The outside's name is no entry of the share, however many ".." come first.
    EXPECT_EQ(c->walk(0, 2, {"..", "outside", "secret"}, &qids), 0);
    EXPECT_EQ(qids.size(), 1u);   // ".." walked, "outside" not found
    EXPECT_EQ(c->walk(0, 2, {"dir", "..", "..", "outside"}, &qids), 0);
    EXPECT_EQ(qids.size(), 3u);
    ASSERT_EQ(c->walk(0, 3, {"dir", "sub", "..", "..", "file"}), 0);
    ASSERT_EQ(c->lopen(3, RDONLY), 0);
    std::string data;
    ASSERT_EQ(c->read_all(3, data), 0);
    EXPECT_EQ(data, "hello, share\n");
}

TEST_F(P9Escape, SymlinksOutAreNeverFollowed) {
    for (const char* link : {"abs", "rel"}) {
        SCOPED_TRACE(link);
        std::vector<Qid> qids;
        ASSERT_EQ(c->walk(0, 1, {link}, &qids), 0);
        EXPECT_EQ(qids[0].type, QT_SYMLINK);   // the link itself
        uint32_t mode = 0;
        ASSERT_EQ(c->getattr(1, &mode), 0);
        EXPECT_TRUE(S_ISLNK(mode));
        EXPECT_EQ(c->lopen(1, RDONLY), ELOOP);
        EXPECT_EQ(c->lopen(1, RDWR), ELOOP);
        EXPECT_EQ(c->lopen(1, WRONLY | TRUNC), ELOOP);
        EXPECT_EQ(c->setattr(1, SETATTR_SIZE, 0, 0), ELOOP);
        EXPECT_EQ(c->setattr(1, SETATTR_MODE, 0777, 0), EOPNOTSUPP);
        EXPECT_EQ(c->lcreate(0, link, RDWR | CREATE, 0644), ELOOP);   // exists as a symlink
        std::string target;
        ASSERT_EQ(c->readlink(1, target), 0);
        EXPECT_NE(target.find("outside"), std::string::npos);
        ASSERT_EQ(c->clunk(1), 0);
    }
    struct stat st {};
    ASSERT_EQ(::stat((tree.outside() + "/secret").c_str(), &st), 0);
    EXPECT_NE(st.st_mode & 0777, 0777u);
}

TEST_F(P9Escape, NothingIsMadeOrRemovedThroughADirectorySymlink) {
    for (const char* link : {"absdir", "reldir"}) {
        SCOPED_TRACE(link);
        std::vector<Qid> qids;
        // Walking through it stops at the link.
        ASSERT_EQ(c->walk(0, 1, {link, "secret"}, &qids), 0);
        EXPECT_EQ(qids.size(), 1u);
        ASSERT_EQ(c->walk(0, 1, {link}), 0);
        EXPECT_EQ(c->lopen(1, RDONLY), ELOOP);
        EXPECT_NE(c->walk(1, 2, {"secret"}), 0);
        EXPECT_NE(c->lcreate(1, "planted", RDWR | CREATE, 0644), 0);
        ASSERT_EQ(c->walk(0, 2, {link}), 0);
        EXPECT_NE(c->mkdir(2, "planted", 0755), 0);
        EXPECT_NE(c->mknod(2, "planted", S_IFREG | 0644), 0);
        EXPECT_NE(c->symlink(2, "planted", "/etc"), 0);
        EXPECT_NE(c->unlinkat(2, "secret", 0), 0);
        EXPECT_NE(c->renameat(2, "secret", 0, "stolen"), 0);
        EXPECT_NE(c->renameat(0, "file", 2, "dropped"), 0);
        ASSERT_EQ(c->walk(0, 3, {"file"}), 0);
        EXPECT_NE(c->rename(3, 2, "dropped"), 0);
        EXPECT_NE(c->link(2, 3, "dropped"), 0);
        for (uint32_t fid : {1u, 2u, 3u}) (void)c->clunk(fid);
    }
    EXPECT_FALSE(ShareTree::exists(tree.share() + "/stolen"));
    EXPECT_EQ(ShareTree::get(tree.share() + "/file"), "hello, share\n");
}

TEST_F(P9Escape, RenamingOrRemovingALinkActsOnTheLink) {
    ASSERT_EQ(c->renameat(0, "abs", 0, "moved"), 0);
    EXPECT_TRUE(std::filesystem::is_symlink(tree.share() + "/moved"));
    ASSERT_EQ(c->unlinkat(0, "moved", 0), 0);
    ASSERT_EQ(c->walk(0, 1, {"absdir"}), 0);
    ASSERT_EQ(c->remove(1), 0);
    EXPECT_FALSE(ShareTree::exists(tree.share() + "/absdir"));
    ASSERT_EQ(c->walk(0, 2, {"reldir"}), 0);
    EXPECT_EQ(c->unlinkat(0, "reldir", DOTL_AT_REMOVEDIR), ENOTDIR);
}

TEST_F(P9Escape, AHardLinkToTheOutsideCannotBeMade) {
    // The only sources are fids, inside the share; a symlink source is linked as the symlink.
    ASSERT_EQ(c->walk(0, 1, {"abs"}), 0);
    ASSERT_EQ(c->link(0, 1, "hard"), 0);
    EXPECT_TRUE(std::filesystem::is_symlink(tree.share() + "/hard"));
    struct stat secret {};
    ASSERT_EQ(::stat((tree.outside() + "/secret").c_str(), &secret), 0);
    EXPECT_EQ(secret.st_nlink, 1u);
    ASSERT_EQ(c->walk(0, 2, {"hard"}), 0);
    EXPECT_EQ(c->lopen(2, RDONLY), ELOOP);
    // Nor through a walk that would need the symlink followed.
    std::vector<Qid> qids;
    ASSERT_EQ(c->walk(0, 3, {"absdir", "secret"}, &qids), 0);   // partial: stops at the link
    EXPECT_EQ(qids.size(), 1u);
    EXPECT_EQ(c->getattr(3), EBADF);
}

// A directory on the walk's way is swapped for a symlink to the outside (renameat2
// RENAME_EXCHANGE) over and over by another thread while walks and opens through it run:
// they see the inside file or fail, never the secret.
TEST_F(P9Escape, ADirectorySwappedForASymlinkDuringWalksNeverLeadsOut) {
    const std::string d = tree.share() + "/race";
    std::filesystem::create_directory(d);
    ShareTree::put(d + "/secret", "inside");
    std::filesystem::create_symlink(tree.outside(), tree.share() + "/race.link");
    std::atomic<bool> stop{false};
    std::atomic<unsigned> swaps{0};
    std::thread swapper([&] {
        while (!stop.load()) {
            if (::renameat2(AT_FDCWD, d.c_str(), AT_FDCWD, (d + ".link").c_str(),
                            RENAME_EXCHANGE) == 0)
                swaps.fetch_add(1);
        }
    });
    unsigned inside = 0, refused = 0;
    for (int i = 0; i < 3000; ++i) {
        if (c->walk(0, 1, {"race", "secret"}) != 0) {
            ++refused;
            continue;
        }
        std::string data;
        int e = c->lopen(1, RDONLY);
        if (e == 0) e = c->read_all(1, data);
        (void)c->clunk(1);
        if (e != 0 || server->fid_count() != 1) {
            ++refused;
            continue;
        }
        ASSERT_EQ(data, "inside") << "read through a swapped directory";
        ++inside;
    }
    stop = true;
    swapper.join();
    std::printf("rename race: %u swaps, %u reads inside, %u refused\n", swaps.load(), inside,
                refused);
    EXPECT_GT(swaps.load(), 100u);
    EXPECT_GT(inside, 0u);
}

TEST_F(P9Escape, DeviceNodesAreNeitherMadeNorOpened) {
    EXPECT_EQ(c->mknod(0, "null", S_IFCHR | 0666), EPERM);
    EXPECT_EQ(c->mknod(0, "disk", S_IFBLK | 0666), EPERM);
    EXPECT_FALSE(ShareTree::exists(tree.share() + "/null"));
    // A fifo can be made; opening it on the host is refused at once (it would block).
    ASSERT_EQ(c->mknod(0, "fifo", S_IFIFO | 0600), 0);
    ASSERT_EQ(c->walk(0, 1, {"fifo"}), 0);
    EXPECT_EQ(c->lopen(1, RDONLY), ENXIO);
    EXPECT_EQ(c->lopen(1, WRONLY), ENXIO);
}

TEST(P9EscapeHost, AnExistingDeviceNodeIsListedButNeverOpened) {
    auto root = ShareRoot::open("/dev");
    ASSERT_TRUE(root) << root.error().message();
    P9Server server(std::move(*root), Access::ReadWrite);
    P9Client c(server);
    ASSERT_EQ(c.start(), 0);
    ASSERT_EQ(c.walk(0, 1, {"null"}), 0);
    uint32_t mode = 0;
    ASSERT_EQ(c.getattr(1, &mode), 0);
    EXPECT_TRUE(S_ISCHR(mode));   // the guest sees a node (its own kernel's device if opened)
    EXPECT_EQ(c.lopen(1, RDONLY), ENXIO);
    EXPECT_EQ(c.lopen(1, RDWR), ENXIO);
}

TEST(P9EscapeHost, ProcfsMagicLinksAndFilesAreRefused) {
    auto root = ShareRoot::open("/proc");
    ASSERT_TRUE(root) << root.error().message();
    P9Server server(std::move(*root), Access::ReadWrite);
    P9Client c(server);
    ASSERT_EQ(c.start(), 0);
    const std::string self = std::to_string(::getpid());
    std::vector<Qid> qids;
    // /proc/self is a symlink: the walk stops there.
    ASSERT_EQ(c.walk(0, 1, {"self", "root", "etc"}, &qids), 0);
    EXPECT_EQ(qids.size(), 1u);
    EXPECT_EQ(qids[0].type, QT_SYMLINK);
    // /proc/PID/root, /proc/PID/cwd, /proc/PID/fd/N are magic links: never crossed.
    for (const char* magic : {"root", "cwd", "exe"}) {
        ASSERT_EQ(c.walk(0, 2, {self, magic, "etc"}, &qids), 0) << magic;
        EXPECT_EQ(qids.size(), 2u) << magic;
    }
    ASSERT_EQ(c.walk(0, 2, {self, "fd", "0"}, &qids), 0);
    EXPECT_EQ(qids.size(), 3u);
    EXPECT_EQ(c.lopen(2, RDONLY), ELOOP);
    // minivmm's own memory and environment: procfs files are never opened.
    for (const char* file : {"mem", "environ", "cmdline"}) {
        ASSERT_EQ(c.walk(0, 3, {self, file}), 0) << file;
        EXPECT_EQ(c.lopen(3, RDONLY), EACCES) << file;
        EXPECT_EQ(c.lopen(3, RDWR), EACCES) << file;
        ASSERT_EQ(c.clunk(3), 0);
    }
    // Nor changed.
    EXPECT_EQ(c.mkdir(0, "x", 0755), EACCES);
    ASSERT_EQ(c.walk(0, 4, {"sys", "kernel", "hostname"}), 0);
    EXPECT_EQ(c.setattr(4, SETATTR_SIZE, 0, 0), EACCES);
}

} // namespace
} // namespace minivmm::p9::test
