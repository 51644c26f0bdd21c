// A device option parsed through its DeviceType, and a restore override merged through it as
// Machine::apply_overrides does (the disk's and the card's registration tests).
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "device_type.hpp"

namespace minivmm::test {

inline std::shared_ptr<const DeviceArgs> parsed(const DeviceType& type, const std::string& text) {
    auto args = type.parse(text, {});
    EXPECT_TRUE(args) << text;
    return args ? *args : nullptr;
}

inline Result<std::string> override_of(const DeviceType& type, const std::string& recorded,
                                       const std::string& given) {
    return type.restore_override(*parsed(type, recorded), *parsed(type, given));
}

} // namespace minivmm::test
