// --net option parsing and MAC addresses.
#include "net/net_spec.hpp"

#include <arpa/inet.h>
#include <net/if.h>

namespace minivmm::net {

namespace {
int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
Error usage(std::string message) { return Error(ErrorCode::Usage, std::move(message)); }
} // namespace

Result<MacAddress> parse_mac(std::string_view text) {
    MacAddress mac{};
    auto bad = [&](const char* why) {
        return usage(fmt::format("Invalid MAC address '{}': {}", text, why));
    };
    if (text.size() != 17) return bad("expected six hex pairs like 52:54:00:12:34:56");
    for (size_t i = 0; i < 6; ++i) {
        int hi = hex_digit(text[i * 3]), lo = hex_digit(text[i * 3 + 1]);
        if (hi < 0 || lo < 0) return bad("expected six hex pairs like 52:54:00:12:34:56");
        if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-')
            return bad("expected six hex pairs like 52:54:00:12:34:56");
        mac[i] = static_cast<uint8_t>(hi * 16 + lo);
    }
    if (mac[0] & 1) return bad("a multicast address cannot be a NIC's");
    if (mac == MacAddress{}) return bad("all zeros");
    return mac;
}

std::string format_mac(const MacAddress& m) {
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                       m[5]);
}

MacAddress generated_mac(std::string_view tap_name) {
    uint64_t h = 0xcbf29ce484222325ULL;   // FNV-1a, 64 bits
    for (char c : tap_name) {
        h ^= static_cast<uint8_t>(c);
        h *= 0x100000001b3ULL;
    }
    MacAddress mac{};
    mac[0] = 0x02;   // locally administered, unicast
    for (size_t i = 1; i < 6; ++i) mac[i] = static_cast<uint8_t>(h >> (8 * (i - 1)));
    return mac;
}

Result<void> check_tap_name(std::string_view name) {
    if (name.empty()) return usage("--net: empty tap name");
    if (name.size() >= IFNAMSIZ)
        return usage(fmt::format("--net: tap name '{}' is longer than {} characters", name,
                                 IFNAMSIZ - 1));
    if (name == "." || name == "..")
        return usage(fmt::format("--net: '{}' is not a valid interface name", name));
    for (char c : name) {
        if (c == '/' || c == ':' || c == ',' || c == '=' || c <= ' ' || c == 0x7f)
            return usage(fmt::format("--net: '{}' is not a valid interface name", name));
    }
    return {};
}

namespace {
Result<uint16_t> parse_port(std::string_view text, std::string_view whole) {
    unsigned v = 0;
    if (text.empty() || text.size() > 5) return usage(fmt::format("--net: bad port in '{}'", whole));
    for (char c : text) {
        if (c < '0' || c > '9') return usage(fmt::format("--net: bad port in '{}'", whole));
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v == 0 || v > 65535) return usage(fmt::format("--net: port out of 1-65535 in '{}'", whole));
    return static_cast<uint16_t>(v);
}
} // namespace

Result<HostForward> parse_host_forward(std::string_view text) {
    auto bad = [&](const char* why) {
        return usage(fmt::format("--net: hostfwd={}: {} (expected tcp:[ADDR]:HOSTPORT-:GUESTPORT "
                                 "or udp:...)", text, why));
    };
    HostForward f;
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos) return bad("no protocol");
    const std::string_view proto = text.substr(0, colon);
    if (proto == "udp") f.udp = true;
    else if (proto != "tcp") return bad("the protocol is tcp or udp");
    const std::string_view rest = text.substr(colon + 1);
    const size_t dash = rest.find('-');
    if (dash == std::string_view::npos) return bad("no '-' between the host and guest sides");
    const std::string_view host = rest.substr(0, dash), guest = rest.substr(dash + 1);
    const size_t hc = host.rfind(':');
    if (hc == std::string_view::npos) return bad("no ':' before the host port");
    f.addr = std::string(host.substr(0, hc));
    if (!f.addr.empty()) {
        in_addr a{};
        if (::inet_pton(AF_INET, f.addr.c_str(), &a) != 1) return bad("the address is not IPv4");
    }
    auto hp = parse_port(host.substr(hc + 1), text);
    if (!hp) return hp.error();
    f.host_port = *hp;
    if (guest.empty() || guest[0] != ':')
        return bad("a guest address cannot be given (passt forwards to the guest's own)");
    auto gp = parse_port(guest.substr(1), text);
    if (!gp) return gp.error();
    f.guest_port = *gp;
    return f;
}

std::string passt_port_spec(const HostForward& f) {
    return fmt::format("{}{}{}:{}", f.addr, f.addr.empty() ? "" : "/", f.host_port, f.guest_port);
}

Result<NetSpec> parse_net_spec(std::string_view text) {
    NetSpec spec;
    if (text.find('=') == std::string_view::npos && text.find(',') == std::string_view::npos &&
        text != "user") {
        MINIVMM_TRY(check_tap_name(text));
        spec.tap = std::string(text);
        spec.mac = generated_mac(text);
        return spec;
    }
    bool have_tap = false, have_stream = false, have_user = false;
    while (true) {
        size_t comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        size_t eq = item.find('=');
        if (item == "user" && !have_user) {
            have_user = true;
        } else if (eq == std::string_view::npos) {
            return usage(fmt::format(
                "--net: '{}' is not KEY=VALUE (keys: tap, stream, mac; hostfwd and log with user)", item));
        } else if (std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
                   key == "tap") {
            if (have_tap) return usage("--net: tap= given twice");
            MINIVMM_TRY(check_tap_name(value));
            spec.tap = std::string(value);
            have_tap = true;
        } else if (key == "stream") {
            if (have_stream) return usage("--net: stream= given twice");
            if (value.empty()) return usage("--net: stream= needs a socket path");
            spec.path = std::string(value);
            have_stream = true;
        } else if (key == "hostfwd") {
            auto f = parse_host_forward(value);
            if (!f) return f.error();
            spec.forwards.push_back(std::move(*f));
        } else if (key == "log") {
            if (!spec.log.empty()) return usage("--net: log= given twice");
            if (value.empty()) return usage("--net: log= needs a file path");
            spec.log = std::string(value);
        } else if (key == "mac") {
            if (spec.mac_given) return usage("--net: mac= given twice");
            auto mac = parse_mac(value);
            if (!mac) return mac.error().with_context("--net");
            spec.mac = *mac;
            spec.mac_given = true;
        } else {
            return usage(fmt::format(
                "--net: unknown key '{}' (keys: tap, stream, mac; hostfwd and log with user)", key));
        }
        if (comma == std::string_view::npos) break;
        text = text.substr(comma + 1);
    }
    if (int(have_tap) + int(have_stream) + int(have_user) != 1)
        return usage("--net: give exactly one of NAME, tap=NAME, user, stream=PATH");
    if ((!spec.forwards.empty() || !spec.log.empty()) && !have_user)
        return usage("--net: hostfwd= and log= are for --net user (they go to passt)");
    if (have_user) {
        spec.backend = NetBackend::User;
        if (!spec.mac_given) spec.mac = generated_mac("user");
    } else if (have_stream) {
        spec.backend = NetBackend::Stream;
        if (!spec.mac_given) spec.mac = generated_mac(spec.path);
    } else if (!spec.mac_given) {
        spec.mac = generated_mac(spec.tap);
    }
    return spec;
}

} // namespace minivmm::net
