// Unit tests for Result<T>, Result<void>, Error and MINIVMM_TRY (vmm/base/result.hpp).
#include "base/result.hpp"

#include <cerrno>
#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

Result<int> parse_positive(int v) {
    if (v <= 0) return Error(ErrorCode::Invalid, fmt::format("{} is not positive", v));
    return v;
}

Result<int> doubled_positive(int v) {
    MINIVMM_TRY(parse_positive(v));
    return 2 * v;
}

Result<void> check_positive(int v) {
    MINIVMM_TRY(parse_positive(v));
    return {};
}

TEST(Result, HoldsValue) {
    Result<int> r = 42;
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(static_cast<bool>(r));
    EXPECT_EQ(r.value(), 42);
    EXPECT_EQ(*r, 42);
}

TEST(Result, HoldsError) {
    Result<int> r = Error(ErrorCode::Input, "bad file");
    ASSERT_FALSE(r.has_value());
    EXPECT_FALSE(static_cast<bool>(r));
    EXPECT_EQ(r.error().code(), ErrorCode::Input);
    EXPECT_EQ(r.error().context(), "bad file");
}

TEST(Result, ArrowReachesMembers) {
    Result<std::string> r = std::string("hello");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->size(), 5u);
    r->append("!");
    EXPECT_EQ(r.value(), "hello!");
}

TEST(Result, MovesOutMoveOnlyValue) {
    Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
    ASSERT_TRUE(r.has_value());
    std::unique_ptr<int> p = std::move(r).value();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(*p, 7);
}

TEST(Result, VoidDefaultsToSuccess) {
    Result<void> ok;
    EXPECT_TRUE(ok.has_value());
    EXPECT_TRUE(static_cast<bool>(ok));
}

TEST(Result, VoidHoldsError) {
    Result<void> r = Error(ErrorCode::Host, "mmap", ENOMEM);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::Host);
    EXPECT_EQ(r.error().sys_errno(), ENOMEM);
}

TEST(Result, TryPropagatesError) {
    Result<int> r = doubled_positive(-3);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::Invalid);
    EXPECT_EQ(r.error().context(), "-3 is not positive");
}

TEST(Result, TryContinuesOnSuccess) {
    Result<int> r = doubled_positive(4);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, 8);
    EXPECT_TRUE(check_positive(1).has_value());
    EXPECT_FALSE(check_positive(0).has_value());
}

TEST(Error, MessageWithoutErrnoIsContext) {
    Error e(ErrorCode::Usage, "unknown option --foo");
    EXPECT_EQ(e.sys_errno(), 0);
    EXPECT_EQ(e.message(), "unknown option --foo");
}

TEST(Error, MessageAppendsStrerror) {
    Error e(ErrorCode::Input, "Failed to open disk vm.img", ENOENT);
    EXPECT_EQ(e.message(), "Failed to open disk vm.img: No such file or directory");
}

TEST(Error, WithContextPrefixesAndKeepsCodeAndErrno) {
    Error inner(ErrorCode::KvmUnusable, "open /dev/kvm", EACCES);
    Error outer = inner.with_context("Failed to start");
    EXPECT_EQ(outer.code(), ErrorCode::KvmUnusable);
    EXPECT_EQ(outer.sys_errno(), EACCES);
    EXPECT_EQ(outer.context(), "Failed to start: open /dev/kvm");
    EXPECT_EQ(outer.message(), "Failed to start: open /dev/kvm: Permission denied");
    EXPECT_EQ(inner.context(), "open /dev/kvm");
}

TEST(Error, SysErrorCapturesErrno) {
    errno = EBADF;
    Error e = sys_error(ErrorCode::Host, "close");
    EXPECT_EQ(e.code(), ErrorCode::Host);
    EXPECT_EQ(e.sys_errno(), EBADF);
    EXPECT_EQ(e.context(), "close");
}

} // namespace
} // namespace minivmm
