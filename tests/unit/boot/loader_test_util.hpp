// Helpers shared by the loader tests.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "base/result.hpp"
#include "memory/guest_memory.hpp"

namespace minivmm::test {

// A loader rejected its input: an ErrorCode::Input error, one line, containing `words`.
template <typename T>
void expect_input_error(const Result<T>& r, const char* words) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::Input);
    EXPECT_NE(r.error().message().find(words), std::string::npos) << r.error().message();
    EXPECT_EQ(r.error().message().find('\n'), std::string::npos);
}

inline GuestMemory ram(uint64_t size) { return *GuestMemory::create({{GuestAddress(0), size}}); }

} // namespace minivmm::test
