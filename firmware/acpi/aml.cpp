// ACPI 6.5 §20.2 AML encoding and §6.4 resource descriptors; see aml.hpp.
#include "acpi/aml.hpp"

#include "base/log.hpp"

namespace minivmm::acpi {

namespace {

// §20.3 AML byte stream byte values.
constexpr uint8_t ZERO_OP = 0x00;
constexpr uint8_t ONE_OP = 0x01;
constexpr uint8_t NAME_OP = 0x08;
constexpr uint8_t BYTE_PREFIX = 0x0a;
constexpr uint8_t WORD_PREFIX = 0x0b;
constexpr uint8_t DWORD_PREFIX = 0x0c;
constexpr uint8_t STRING_PREFIX = 0x0d;
constexpr uint8_t QWORD_PREFIX = 0x0e;
constexpr uint8_t SCOPE_OP = 0x10;
constexpr uint8_t BUFFER_OP = 0x11;
constexpr uint8_t PACKAGE_OP = 0x12;
constexpr uint8_t EXT_OP_PREFIX = 0x5b;
constexpr uint8_t DEVICE_OP = 0x82; // after EXT_OP_PREFIX
constexpr uint8_t DUAL_NAME_PREFIX = 0x2e;
constexpr uint8_t MULTI_NAME_PREFIX = 0x2f;
constexpr uint8_t ROOT_CHAR = '\\';

constexpr uint64_t PKG_LENGTH_MAX = (1ULL << 28) - 1;

void put(AmlBytes& out, const AmlBytes& more) { out.insert(out.end(), more.begin(), more.end()); }

void put_le(AmlBytes& out, uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

bool is_lead_char(char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_lead_char(c) || (c >= '0' && c <= '9'); }

void put_name_seg(AmlBytes& out, std::string_view seg) {
    MINIVMM_ASSERT(!seg.empty() && seg.size() <= 4 && is_lead_char(seg[0]));
    for (size_t i = 0; i < 4; ++i) {
        char c = i < seg.size() ? seg[i] : '_';
        MINIVMM_ASSERT(is_name_char(c));
        out.push_back(static_cast<uint8_t>(c));
    }
}

// Opcode bytes, PkgLength, then the body: the shape of Scope, Device, Package and Buffer.
AmlBytes with_pkg_length(const AmlBytes& opcode, const AmlBytes& body) {
    AmlBytes out = opcode;
    put(out, aml_pkg_length(body.size()));
    put(out, body);
    return out;
}

AmlBytes join(const AmlTerms& terms) {
    AmlBytes out;
    for (const auto& t : terms) put(out, t);
    return out;
}

uint8_t hex_digit(char c) {
    MINIVMM_ASSERT((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'));
    return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'A' + 10);
}

} // namespace

AmlBytes aml_pkg_length(uint64_t content_length) {
    // One byte holds up to 63 (6 bits); with k follow bytes the lead byte keeps 4 bits.
    for (uint64_t k = 0; k <= 3; ++k) {
        const uint64_t total = content_length + 1 + k;
        const uint64_t limit = k == 0 ? 0x3f : (1ULL << (4 + 8 * k)) - 1;
        if (total > limit) continue;
        if (k == 0) return {static_cast<uint8_t>(total)};
        AmlBytes out{static_cast<uint8_t>((k << 6) | (total & 0xf))};
        put_le(out, total >> 4, static_cast<int>(k));
        return out;
    }
    // Longer than PKG_LENGTH_MAX: our tables are a few KiB, so this is a programming error.
    MINIVMM_ASSERT(content_length + 4 <= PKG_LENGTH_MAX);
    return {};
}

AmlBytes aml_name_string(std::string_view path) {
    AmlBytes out;
    if (!path.empty() && path[0] == ROOT_CHAR) {
        out.push_back(ROOT_CHAR);
        path.remove_prefix(1);
    }
    std::vector<std::string_view> segs;
    for (size_t dot; (dot = path.find('.')) != std::string_view::npos; path.remove_prefix(dot + 1))
        segs.push_back(path.substr(0, dot));
    segs.push_back(path);
    MINIVMM_ASSERT(segs.size() <= 255);
    if (segs.size() == 2) out.push_back(DUAL_NAME_PREFIX);
    if (segs.size() > 2) {
        out.push_back(MULTI_NAME_PREFIX);
        out.push_back(static_cast<uint8_t>(segs.size()));
    }
    for (auto seg : segs) put_name_seg(out, seg);
    return out;
}

AmlBytes aml_integer(uint64_t value) {
    if (value == 0) return {ZERO_OP};
    if (value == 1) return {ONE_OP};
    AmlBytes out;
    if (value <= 0xff) {
        out.push_back(BYTE_PREFIX);
        put_le(out, value, 1);
    } else if (value <= 0xffff) {
        out.push_back(WORD_PREFIX);
        put_le(out, value, 2);
    } else if (value <= 0xffff'ffff) {
        out.push_back(DWORD_PREFIX);
        put_le(out, value, 4);
    } else {
        out.push_back(QWORD_PREFIX);
        put_le(out, value, 8);
    }
    return out;
}

AmlBytes aml_string(std::string_view text) {
    AmlBytes out{STRING_PREFIX};
    for (char c : text) {
        const auto byte = static_cast<uint8_t>(c);
        MINIVMM_ASSERT(byte > 0 && byte < 0x80); // ASCII, no NUL inside
        out.push_back(byte);
    }
    out.push_back(0);
    return out;
}

AmlBytes aml_eisa_id(std::string_view id) {
    // Three letters 'A'..'Z' in 5 bits each ('A' = 1), then four hex digits, big-endian.
    MINIVMM_ASSERT(id.size() == 7);
    for (size_t i = 0; i < 3; ++i) MINIVMM_ASSERT(id[i] >= 'A' && id[i] <= 'Z');
    const auto l0 = static_cast<uint32_t>(id[0] - 0x40);
    const auto l1 = static_cast<uint32_t>(id[1] - 0x40);
    const auto l2 = static_cast<uint32_t>(id[2] - 0x40);
    const uint32_t vendor = (l0 << 10) | (l1 << 5) | l2;
    uint32_t product = 0;
    for (size_t i = 3; i < 7; ++i) product = (product << 4) | hex_digit(id[i]);
    AmlBytes out{DWORD_PREFIX};
    out.push_back(static_cast<uint8_t>(vendor >> 8));
    out.push_back(static_cast<uint8_t>(vendor));
    out.push_back(static_cast<uint8_t>(product >> 8));
    out.push_back(static_cast<uint8_t>(product));
    return out;
}

AmlBytes aml_package(const AmlTerms& elements) {
    MINIVMM_ASSERT(elements.size() <= 255);
    AmlBytes body{static_cast<uint8_t>(elements.size())};
    put(body, join(elements));
    return with_pkg_length({PACKAGE_OP}, body);
}

AmlBytes aml_buffer(const AmlBytes& data) {
    AmlBytes body = aml_integer(data.size());
    put(body, data);
    return with_pkg_length({BUFFER_OP}, body);
}

AmlBytes aml_name(std::string_view name, const AmlBytes& value) {
    AmlBytes out{NAME_OP};
    put(out, aml_name_string(name));
    put(out, value);
    return out;
}

AmlBytes aml_scope(std::string_view path, const AmlTerms& terms) {
    AmlBytes body = aml_name_string(path);
    put(body, join(terms));
    return with_pkg_length({SCOPE_OP}, body);
}

AmlBytes aml_device(std::string_view name, const AmlTerms& terms) {
    AmlBytes body = aml_name_string(name);
    put(body, join(terms));
    return with_pkg_length({EXT_OP_PREFIX, DEVICE_OP}, body);
}

AmlBytes aml_io(uint16_t base, uint8_t length) {
    // Small item 0x08 with 7 data bytes; information bit 0: decodes 16 address bits.
    AmlBytes out{0x47, 0x01};
    put_le(out, base, 2); // range minimum base
    put_le(out, base, 2); // range maximum base
    out.push_back(0);     // base alignment (fixed range)
    out.push_back(length);
    return out;
}

AmlBytes aml_irq_no_flags(uint8_t irq) {
    MINIVMM_ASSERT(irq < 16);
    AmlBytes out{0x22}; // small item 0x04 with a 2-byte IRQ mask: edge, active high
    put_le(out, 1u << irq, 2);
    return out;
}

AmlBytes aml_memory32_fixed(uint32_t base, uint32_t length) {
    AmlBytes out{0x86, 0x09, 0x00, 0x01}; // large item 0x06, 9 data bytes, read-write
    put_le(out, base, 4);
    put_le(out, length, 4);
    return out;
}

AmlBytes aml_interrupt(uint32_t gsi) {
    // Large item 0x09, 6 data bytes; flags: bit 0 consumer, bit 1 edge (active high,
    // exclusive); one interrupt number, no resource source.
    AmlBytes out{0x89, 0x06, 0x00, 0x03, 0x01};
    put_le(out, gsi, 4);
    return out;
}

AmlBytes aml_resource_template(const AmlTerms& descriptors) {
    AmlBytes data = join(descriptors);
    data.push_back(0x79); // §6.4.2.9 End Tag
    data.push_back(0x00); // checksum 0: "treat as valid"
    return aml_buffer(data);
}

} // namespace minivmm::acpi
