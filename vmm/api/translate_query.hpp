// GET /minivmm/translate?gva=0x...&vcpu=N, a minivmm extension beside Firecracker's routes: the
// walk of one guest virtual address on a running VM (README, "Managing a VM"). Trust boundary:
// the query is a client's bytes; it is parsed here, bounded, before the VM sees any of it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/vm_resources.hpp"
#include "machine/control_channel.hpp"

namespace minivmm::api {

// A guest virtual address as a client writes it: hexadecimal, "0x" optional, 1 to 16 digits
// (no sign, no space, nothing after). Nothing for anything else, or a value over 64 bits.
std::optional<uint64_t> parse_gva(std::string_view text);

// The query of GET /minivmm/translate: `gva` (required, parse_gva) and `vcpu` (decimal, default
// 0, below 1024, the most vCPUs x86 KVM makes), in either order, each at most once, nothing else. A 400 says what is
// wrong; the vCPU index is checked against the VM's own count later (Machine::translate).
MaybeError parse_translate_query(std::string_view query, TranslateRequest& out);

// The answer's body: the facts as JSON (addresses as "0x..." strings, null where the walk did
// not get there) and "explanation", the text the paging demo prints (format_explanation).
nlohmann::json translate_json(const AddressExplanation& e);

} // namespace minivmm::api
