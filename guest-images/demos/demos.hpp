// The built-in demo guests: flat binaries built from the sources in this folder and embedded
// in the minivmm executable. Each is entered at layout::DEMO_LOAD_ADDR in 32-bit protected mode.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace minivmm {

struct Demo {
    std::string_view name;
    std::string_view description;
    std::span<const uint8_t> image;
};

const std::vector<Demo>& demos();
// nullptr if there is no demo of that name.
const Demo* find_demo(std::string_view name);
constexpr std::string_view DEFAULT_DEMO = "hello";

} // namespace minivmm
