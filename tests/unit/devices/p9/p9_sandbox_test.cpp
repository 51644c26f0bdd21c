// The 9p server under the I/O thread's seccomp filter: every request kind a Linux client sends
// runs to completion in a forked child confined as minivmm's I/O thread is in a machine with
// shares; the same requests under the filter of a machine without shares end the child
// (SECCOMP_EXIT_CODE), so the share rules are what lets them through.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "confined_child.hpp"
#include "p9_client.hpp"
#include "share_tree.hpp"

namespace minivmm::p9::test {
namespace {

// Every request kind; _exit(N) at the first that fails, N naming it.
void every_request(P9Server& server) {
    P9Client c(server);
    auto check = [](int e, int code) {
        if (e != 0) ::_exit(code);
    };
    check(c.start(), 10);
    std::vector<std::string> names;
    check(c.walk(0, 1, {}), 11);
    check(c.lopen(1, RDONLY), 12);
    check(c.readdir(1, names), 13);
    check(c.walk(0, 2, {"dir", "inner"}), 14);
    check(c.getattr(2), 15);
    check(c.lopen(2, RDONLY), 16);
    std::string data;
    check(c.read_all(2, data), 17);
    check(c.walk(0, 3, {}), 18);
    check(c.lcreate(3, "new", RDWR | CREATE, 0644), 19);
    check(c.write(3, 0, "data"), 20);
    check(c.fsync(3), 21);
    check(c.setattr(3, SETATTR_MODE | SETATTR_SIZE, 0640, 1), 40);   // on the open fid
    check(c.mkdir(0, "made", 0755), 22);
    check(c.renameat(0, "new", 0, "renamed"), 23);
    check(c.walk(0, 4, {"renamed"}), 24);
    check(c.setattr(4, SETATTR_MODE | SETATTR_SIZE | SETATTR_ATIME | SETATTR_MTIME, 0600, 2), 25);
    check(c.setattr(4, SETATTR_UID | SETATTR_GID, 0, 0) == EPERM ? 0 : c.setattr(4, 0, 0, 0), 26);
    check(c.symlink(0, "ln", "renamed"), 27);
    check(c.walk(0, 5, {"ln"}), 28);
    check(c.readlink(5, data), 29);
    check(c.link(0, 4, "hard"), 30);
    check(c.mknod(0, "fifo", S_IFIFO | 0600), 31);
    check(c.statfs(0), 32);
    check(c.walk(0, 6, {"made"}), 33);
    check(c.rename(4, 6, "moved"), 34);
    check(c.unlinkat(0, "hard", 0), 35);
    check(c.remove(5), 36);
    check(c.unlinkat(6, "moved", 0), 37);
    check(c.unlinkat(0, "made", DOTL_AT_REMOVEDIR), 38);
    check(c.clunk(1), 39);
}

TEST(P9Sandbox, EveryRequestRunsUnderTheIoThreadsFilterOfAMachineWithShares) {
    ShareTree tree;
    auto server = tree.server(Access::ReadWrite);
    for (sandbox::ThreadKind kind : {sandbox::IO, sandbox::VCPU}) {
        auto filter = sandbox::SeccompFilter::build(kind, sandbox::Sharing::HostDirectories);
        ASSERT_TRUE(filter) << filter.error().message();
        auto child = sandbox::run_confined(*filter, [&] { every_request(*server); });
        EXPECT_EQ(child.exit_code, 0) << sandbox::thread_kind_name(kind) << ": " << child.err;
        EXPECT_EQ(child.err, "");
        ASSERT_TRUE(ShareTree::exists(tree.share() + "/fifo")) << "the child did not run";
        std::filesystem::remove(tree.share() + "/fifo");
        std::filesystem::remove(tree.share() + "/ln");
    }
}

TEST(P9Sandbox, WithoutSharesTheSameRequestsAreForbidden) {
    ShareTree tree;
    auto server = tree.server(Access::ReadWrite);
    auto filter = sandbox::SeccompFilter::build(sandbox::IO);
    ASSERT_TRUE(filter);
    auto child = sandbox::run_confined(*filter, [&] { every_request(*server); });
    EXPECT_EQ(child.exit_code, sandbox::SECCOMP_EXIT_CODE);
    EXPECT_NE(child.err.find("openat2"), std::string::npos) << child.err;
}

} // namespace
} // namespace minivmm::p9::test
