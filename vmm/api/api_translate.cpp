// The management API's translate route (translate_query.hpp): the query parsed as hostile
// input, the walk asked of the VM's main loop, its facts and text as JSON.
#include <fmt/format.h>

#include "api/api_router.hpp"
#include "api/translate_query.hpp"

namespace minivmm::api {

using nlohmann::json;

namespace {
constexpr uint32_t VCPU_INDEX_LIMIT = 1024;   // x86 KVM's KVM_MAX_VCPUS

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

json hex_or_null(std::optional<uint64_t> v) { return v ? json(fmt::format("{:#x}", *v)) : json(); }

// A short, printable echo of a client's value for a fault message.
std::string shown(std::string_view v) {
    std::string s;
    for (char c : v.substr(0, 40)) s += (c >= 0x20 && c < 0x7f) ? c : '?';
    return v.size() > 40 ? s + "..." : s;
}
} // namespace

std::optional<uint64_t> parse_gva(std::string_view text) {
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
    if (text.empty() || text.size() > 16) return std::nullopt;   // 16 digits: no overflow
    uint64_t v = 0;
    for (char c : text) {
        if (!is_hex(c)) return std::nullopt;
        const char low = static_cast<char>(c | 0x20);
        v = v << 4 | static_cast<uint64_t>(low <= '9' ? low - '0' : low - 'a' + 10);
    }
    return v;
}

MaybeError parse_translate_query(std::string_view query, TranslateRequest& out) {
    bool have_gva = false, have_vcpu = false;
    out = {};
    while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        const size_t eq = pair.find('=');
        const std::string_view key = pair.substr(0, eq);
        const std::string_view value =
            eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        if (key == "gva") {
            if (have_gva) return ApiError{400, "query: `gva` given twice"};
            auto gva = parse_gva(value);
            if (!gva)
                return ApiError{400, fmt::format("query: `gva` must be 1 to 16 hexadecimal digits "
                                                 "(0x optional), not `{}`", shown(value))};
            out.gva = *gva;
            have_gva = true;
        } else if (key == "vcpu") {
            if (have_vcpu) return ApiError{400, "query: `vcpu` given twice"};
            uint32_t v = 0;
            bool ok = !value.empty() && value.size() <= 4;
            for (char c : value) {
                ok = ok && c >= '0' && c <= '9';
                v = v * 10 + static_cast<uint32_t>(c - '0');
            }
            if (!ok || v >= VCPU_INDEX_LIMIT)
                return ApiError{400, fmt::format("query: `vcpu` must be a decimal index below {}, "
                                                 "not `{}`", VCPU_INDEX_LIMIT, shown(value))};
            out.vcpu = v;
            have_vcpu = true;
        } else {
            return ApiError{400, fmt::format("query: unknown parameter `{}` (expected gva, vcpu)",
                                             shown(key))};
        }
    }
    if (!have_gva) return ApiError{400, "query: missing `gva` (GET /minivmm/translate?gva=0x...)"};
    return std::nullopt;
}

json translate_json(const AddressExplanation& e) {
    std::optional<uint64_t> kvm_gpa, hva, hpa;
    if (const auto* t = std::get_if<KvmTranslation>(&e.kvm); t && t->valid) kvm_gpa = t->gpa;
    if (e.slot && e.walk.gpa) hva = e.slot->hva + (*e.walk.gpa - e.slot->gpa);
    if (const auto* h = std::get_if<uint64_t>(&e.hpa)) hpa = *h;
    std::string bytes;
    for (uint8_t b : e.bytes) bytes += fmt::format("{:02x}", b);
    return json{{"gva", fmt::format("{:#x}", e.gva)},
                {"vcpu", e.vcpu},
                {"gpa", hex_or_null(e.walk.gpa)},
                {"page_size", e.walk.page_size},
                {"kvm_translate_gpa", hex_or_null(kvm_gpa)},
                {"slot", e.slot ? json(e.slot->slot) : json()},
                {"hva", hex_or_null(hva)},
                {"hpa", hex_or_null(hpa)},
                {"bytes", bytes},
                {"explanation", format_explanation(e)}};
}

ApiResponse ApiRouter::get_translate(const std::string& query) {
    TranslateRequest request;
    if (MaybeError e = parse_translate_query(query, request)) return fault(e->status, e->message);
    if (vmm_.state() == InstanceState::NotStarted)
        return fault(400, "The requested operation is not supported before starting the microVM.");
    Reply reply = vmm_.command(Command(request));
    if (!reply.ok || !reply.explanation) return fault(400, reply.message);
    return {200, translate_json(*reply.explanation)
                     .dump(-1, ' ', false, json::error_handler_t::replace)};
}

} // namespace minivmm::api
