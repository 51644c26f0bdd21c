// --net NAME / --net tap=NAME,mac=MAC: parsed and validated as plain data before anything is
// opened (Machine::create step 1), and the MAC address a device gets.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace minivmm::net {

using MacAddress = std::array<uint8_t, 6>;

// hostfwd=tcp:[ADDR]:HOSTPORT-:GUESTPORT (or udp:): a host port passt forwards to the guest.
struct HostForward {
    bool udp = false;
    std::string addr;   // an IPv4 address of the host to bind, or empty: every address
    uint16_t host_port = 0;
    uint16_t guest_port = 0;
};

enum class NetBackend : uint8_t {
    Tap,      // a tap device (needs CAP_NET_ADMIN or a tap made for the user)
    User,     // passt, started by minivmm: no privilege needed
    Stream,   // a unix stream socket to a peer that speaks passt's framing (a running passt)
};

struct NetSpec {
    NetBackend backend = NetBackend::Tap;
    std::string tap;    // Tap: interface name, 1..15 characters, no '/', ':', ',', '=' or spaces
    std::string path;   // Stream: the socket's path
    std::vector<HostForward> forwards;   // User
    std::string log;                     // User: passt's log file (empty: minivmm's stderr)
    MacAddress mac{};   // given, or generated from the name
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

// "NAME" or "tap=NAME[,mac=MAC]", "user[,hostfwd=...]...[,mac=MAC]", "stream=PATH[,mac=MAC]"
// (keys in any order, each once but hostfwd). Errors are ErrorCode::Usage and name the problem.
Result<NetSpec> parse_net_spec(std::string_view text);
Result<HostForward> parse_host_forward(std::string_view text);
// passt's -t/-u argument for `f`: "[ADDR/]HOSTPORT:GUESTPORT".
std::string passt_port_spec(const HostForward& f);

} // namespace minivmm::net
