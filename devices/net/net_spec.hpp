// --net NAME / --net tap=NAME,mac=MAC: parsed and validated as plain data before anything is
// opened (Machine::create step 1), and the MAC address a device gets.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace minivmm::net {

using MacAddress = std::array<uint8_t, 6>;

struct NetSpec {
    std::string tap;   // interface name, 1..15 characters, no '/', ':', ',', '=' or spaces
    MacAddress mac{};  // given, or generated from the name
    bool mac_given = false;
};

// "52:54:00:12:34:56" (or with '-'): six hex pairs; a multicast or all-zero address is refused
// (a NIC address must be unicast). Errors are ErrorCode::Usage.
Result<MacAddress> parse_mac(std::string_view text);
std::string format_mac(const MacAddress& mac);

// A stable locally administered unicast address for `tap_name` (02:xx:.. from a hash of the
// name): the same tap gives the same MAC on every run.
MacAddress generated_mac(std::string_view tap_name);

// Interface names the kernel accepts (dev_valid_name) and that our syntax can carry.
Result<void> check_tap_name(std::string_view name);

// "NAME" or "tap=NAME[,mac=MAC]" (keys in any order, each once). Errors are ErrorCode::Usage
// and name the problem.
Result<NetSpec> parse_net_spec(std::string_view text);

} // namespace minivmm::net
