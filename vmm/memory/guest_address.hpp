// GuestAddress: a guest-physical address, a strong type so it cannot be mixed with host pointers.
#pragma once

#include <compare>
#include <cstdint>

namespace minivmm {

class GuestAddress {
public:
    constexpr GuestAddress() = default;
    constexpr explicit GuestAddress(uint64_t value) : value_(value) {}
    constexpr uint64_t value() const { return value_; }
    // Wraps modulo 2^64; callers that need overflow checks use checked_add.
    constexpr GuestAddress operator+(uint64_t offset) const { return GuestAddress(value_ + offset); }
    constexpr auto operator<=>(const GuestAddress&) const = default;

private:
    uint64_t value_ = 0;
};

} // namespace minivmm
