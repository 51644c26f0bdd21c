// Tests of the runner's job file and archive (vmm/runner/job.hpp).
#include "runner/job.hpp"

#include <string>

#include <gtest/gtest.h>

#include "runner_init.hpp"

namespace minivmm::runner {
namespace {

std::vector<std::string> fields(const std::vector<uint8_t>& bytes) {
    std::vector<std::string> out;
    std::string cur;
    for (uint8_t b : bytes) {
        if (b == 0) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += static_cast<char>(b);
        }
    }
    EXPECT_TRUE(cur.empty()) << "the last field is not NUL-terminated";
    return out;
}

TEST(Job, FieldsInOrder) {
    Job job;
    job.argv = {"sh", "-c", "echo 'a b' = c"};
    job.env = {"PATH=/bin", "X=a=b"};
    job.shares = {{"src", "/home/u/src dir", false}, {"out", "/tmp/out", true}};
    job.cwd = "/home/u/src dir";
    auto e = encode_job(job);
    ASSERT_TRUE(e.has_value()) << e.error().message();
    EXPECT_EQ(fields(*e), (std::vector<std::string>{
                              "minivmm-job 1", "arg=sh", "arg=-c", "arg=echo 'a b' = c",
                              "env=PATH=/bin", "env=X=a=b", "share=ro src /home/u/src dir",
                              "share=rw out /tmp/out", "cwd=/home/u/src dir"}));
}

TEST(Job, TheRootShareComesFirst) {
    Job job;
    job.root_tag = "minivmm-root";
    job.argv = {"true"};
    auto e = encode_job(job);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(fields(*e), (std::vector<std::string>{"minivmm-job 1", "root=minivmm-root", "arg=true",
                                                    "cwd=/"}));
    job.root_tag = "bad tag";
    EXPECT_FALSE(encode_job(job).has_value());
}

TEST(Job, EmptyArgumentsAreKept) {
    Job job;
    job.argv = {"printf", ""};
    auto e = encode_job(job);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(fields(*e), (std::vector<std::string>{"minivmm-job 1", "arg=printf", "arg=", "cwd=/"}));
}

TEST(Job, RefusesWhatTheInitCouldNotRead) {
    auto refused = [](Job job) {
        auto e = encode_job(job);
        return !e.has_value() && e.error().code() == ErrorCode::Usage;
    };
    EXPECT_TRUE(refused(Job{}));                                   // no command
    EXPECT_TRUE(refused(Job{"", {""}, {}, {}, "/"}));                  // an empty command
    EXPECT_TRUE(refused(Job{"", {std::string("a\0b", 3)}, {}, {}, "/"}));
    EXPECT_TRUE(refused(Job{"", {"true"}, {"NOEQUALS"}, {}, "/"}));
    EXPECT_TRUE(refused(Job{"", {"true"}, {"=x"}, {}, "/"}));
    EXPECT_TRUE(refused(Job{"", {"true"}, {}, {{"a b", "/x", false}}, "/"}));
    EXPECT_TRUE(refused(Job{"", {"true"}, {}, {{"", "/x", false}}, "/"}));
    EXPECT_TRUE(refused(Job{"", {"true"}, {}, {{std::string(32, 't'), "/x", false}}, "/"}));
    EXPECT_TRUE(refused(Job{"", {"true"}, {}, {{"t", "relative", false}}, "/"}));
    EXPECT_TRUE(refused(Job{"", {"true"}, {}, {}, ""}));
    EXPECT_TRUE(refused(Job{"", {"true"}, {}, {}, "rel"}));
    EXPECT_FALSE(refused(Job{"", {"true"}, {}, {{std::string(31, 't'), "/x", false}}, "/"}));
}

TEST(Job, DefaultEnvironmentIsSaneAndOwn) {
    auto env = default_environment();
    ASSERT_EQ(env.size(), 3u);
    EXPECT_EQ(env[0].rfind("PATH=", 0), 0u);
    EXPECT_NE(env[0].find("/bin"), std::string::npos);
    EXPECT_EQ(env[1], "HOME=/root");
    EXPECT_EQ(env[2], "TERM=dumb");
}

TEST(Job, GuestDirectoryIsTheHostsWhenAShareHoldsIt) {
    std::vector<JobShare> shares = {{"a", "/work/src", false}};
    EXPECT_EQ(guest_directory("/work/src", shares), "/work/src");
    EXPECT_EQ(guest_directory("/work/src/sub", shares), "/work/src/sub");
    EXPECT_EQ(guest_directory("/work/srcx", shares), "/");
    EXPECT_EQ(guest_directory("/work", shares), "/");
    EXPECT_EQ(guest_directory("/anything", {{"r", "/", false}}), "/anything");
    EXPECT_EQ(guest_directory("/anything", {}), "/");
    EXPECT_EQ(guest_directory("", shares), "/");
}

TEST(Job, ArchiveHoldsTheInitAndTheJob) {
    Job job;
    job.argv = {"true"};
    auto a = job_archive(job);
    ASSERT_TRUE(a.has_value());
    const std::string s(a->begin(), a->end());
    EXPECT_NE(s.find("minivmm/init"), std::string::npos);
    EXPECT_NE(s.find("minivmm/job"), std::string::npos);
    EXPECT_NE(s.find("TRAILER!!!"), std::string::npos);
    // The init is a static x86-64 ELF executable.
    auto init = runner_init_binary();
    ASSERT_GT(init.size(), 64u);
    EXPECT_EQ(init[0], 0x7f);
    EXPECT_EQ(init[1], 'E');
    EXPECT_EQ(init[4], 2);   // ELFCLASS64
    EXPECT_NE(s.find(std::string(init.begin(), init.begin() + 64)), std::string::npos);
}

} // namespace
} // namespace minivmm::runner
