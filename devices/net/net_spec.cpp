// --net option parsing and MAC addresses.
#include "net/net_spec.hpp"

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

Result<NetSpec> parse_net_spec(std::string_view text) {
    NetSpec spec;
    if (text.find('=') == std::string_view::npos) {
        MINIVMM_TRY(check_tap_name(text));
        spec.tap = std::string(text);
        spec.mac = generated_mac(text);
        return spec;
    }
    bool have_tap = false;
    while (true) {
        size_t comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        size_t eq = item.find('=');
        if (eq == std::string_view::npos)
            return usage(fmt::format("--net: '{}' is not KEY=VALUE (keys: tap, mac)", item));
        std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
        if (key == "tap") {
            if (have_tap) return usage("--net: tap= given twice");
            MINIVMM_TRY(check_tap_name(value));
            spec.tap = std::string(value);
            have_tap = true;
        } else if (key == "mac") {
            if (spec.mac_given) return usage("--net: mac= given twice");
            auto mac = parse_mac(value);
            if (!mac) return mac.error().with_context("--net");
            spec.mac = *mac;
            spec.mac_given = true;
        } else {
            return usage(fmt::format("--net: unknown key '{}' (keys: tap, mac)", key));
        }
        if (comma == std::string_view::npos) break;
        text = text.substr(comma + 1);
    }
    if (!have_tap) return usage("--net: tap=NAME is missing");
    if (!spec.mac_given) spec.mac = generated_mac(spec.tap);
    return spec;
}

} // namespace minivmm::net
