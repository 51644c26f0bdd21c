// --share parsing: the directory made absolute and checked, default and given tags, rw.
#include "p9/share_spec.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "p9/p9_registration.hpp"

namespace minivmm::p9 {
namespace {

TEST(ShareSpec, ParsesDirTagAndRw) {
    std::vector<ShareSpec> shares;
    ASSERT_TRUE(add_share(shares, "/tmp"));
    ASSERT_TRUE(add_share(shares, "/tmp/../tmp,tag=src,rw"));
    ASSERT_TRUE(add_share(shares, "/,rw,tag=my-root.1,ro"));
    ASSERT_TRUE(add_share(shares, "/tmp"));
    ASSERT_EQ(shares.size(), 4u);
    EXPECT_EQ(shares[0].dir, "/tmp");
    EXPECT_EQ(shares[0].tag, "share0");
    EXPECT_FALSE(shares[0].writable);
    EXPECT_EQ(shares[1].dir, "/tmp");   // made absolute, no ".."
    EXPECT_EQ(shares[1].tag, "src");
    EXPECT_TRUE(shares[1].writable);
    EXPECT_EQ(shares[2].tag, "my-root.1");
    EXPECT_FALSE(shares[2].writable);   // the last of rw/ro wins
    EXPECT_EQ(shares[3].tag, "share3");
}

TEST(ShareSpec, MakesARelativeDirectoryAbsolute) {
    char cwd[4096];
    ASSERT_NE(::getcwd(cwd, sizeof cwd), nullptr);
    auto spec = parse_share(".", {});
    ASSERT_TRUE(spec) << spec.error().message();
    char real[4096];
    ASSERT_NE(::realpath(cwd, real), nullptr);
    EXPECT_EQ(spec->dir, real);
}

TEST(ShareSpec, RefusesBadOptions) {
    std::vector<ShareSpec> shares;
    ASSERT_TRUE(add_share(shares, "/tmp,tag=t"));
    for (const char* bad : {"", ",rw", "/tmp,", "/tmp,rx", "/tmp,tag=", "/tmp,tag=a/b",
                            "/tmp,tag=a b", "/tmp,tag=t", "/tmp,tag=a,tag=b",
                            "/tmp,tag=0123456789012345678901234567890x", "/nonexistent-dir",
                            "/etc/passwd"}) {
        auto r = parse_share(bad, shares);
        EXPECT_FALSE(r) << bad;
    }
    EXPECT_TRUE(parse_share("/tmp,tag=0123456789012345678901234567890", shares));   // 31 bytes
}

TEST(ShareSpec, SharesAddedByOtherCodeAreCheckedWhenPlanned) {
    std::vector<ShareSpec> shares = {{"/", "minivmm-root", false}, {"/tmp", "minivmm-root", true}};
    EXPECT_FALSE(share_options(shares));   // the same tag twice
    shares[1].tag = "tmp";
    auto options = share_options(shares);
    ASSERT_TRUE(options);
    ASSERT_EQ(options->size(), 2u);
    EXPECT_EQ((*options)[0].type, &DEVICE_TYPE);
    EXPECT_EQ((*options)[1].args->host_end(), "/tmp as 'tmp', rw");
    EXPECT_EQ((*options)[1].text, "/tmp,tag=tmp,rw");
    EXPECT_EQ((*options)[0].text, "/,tag=minivmm-root");
    shares[1].dir = "tmp";   // not absolute
    EXPECT_FALSE(share_options(shares));
}

} // namespace
} // namespace minivmm::p9
