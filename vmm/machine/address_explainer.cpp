#include "machine/address_explainer.hpp"

#include <fmt/format.h>

#include "machine/memory_map.hpp"

namespace minivmm {

namespace {
constexpr size_t MAX_BYTES = 16;

std::string rights(const PageWalk& w) {
    return fmt::format("{}, {}, {}", w.user ? "user" : "supervisor only",
                       w.writable ? "writable" : "read-only",
                       w.executable ? "executable" : "not executable");
}

std::string printable(const std::vector<uint8_t>& bytes) {
    std::string s;
    for (uint8_t b : bytes) s += (b >= 0x20 && b < 0x7f) ? static_cast<char>(b) : '.';
    return s;
}

std::string format_steps(const AddressExplanation& e, std::string& out) {
    const PagingRegs& r = e.regs;
    out += fmt::format("  CR3 {:#x}: the PML4 (CR0.PG {}, CR4.PAE {}, CR4.LA57 {}, EFER.LMA {}, "
                       "EFER.NXE {})\n", r.cr3 & ~0xfffULL, (r.cr0 >> 31) & 1, (r.cr4 >> 5) & 1,
                       (r.cr4 >> 12) & 1, (r.efer >> 10) & 1, (r.efer >> 11) & 1);
    for (const PageWalkStep& s : e.walk.steps) {
        std::string next;
        if (s.entry & 1) {
            if (s.leaf)
                next = fmt::format("-> {} page at GPA {:#x}", format_size(e.walk.page_size),
                                   page_entry_address(s.entry) & ~(e.walk.page_size - 1));
            else
                next = fmt::format("-> {} at GPA {:#x}", page_level_name(s.level - 1),
                                   page_entry_address(s.entry));
        }
        std::string line = fmt::format("  {:<4}[{:>3}] at GPA {:#x}: {:#018x} {:<14} {}",
                                       page_level_name(s.level), s.index,
                                       s.table + s.index * 8ULL, s.entry,
                                       page_entry_flags(s.entry, s.level), next);
        line.erase(line.find_last_not_of(' ') + 1);
        out += line + '\n';
    }
    return out;
}
} // namespace

std::string format_explanation(const AddressExplanation& e) {
    std::string out = fmt::format("minivmm: explain GVA {:#x} (vcpu{})\n", e.gva, e.vcpu);
    if (e.walk.paging) format_steps(e, out);
    else out += "  paging is off (CR0.PG 0): the GVA is the GPA\n";
    if (!e.walk.gpa) {
        out += fmt::format("  walk stopped: {}\n", e.walk.stopped);
    } else {
        out += fmt::format("  GPA {:#x}", *e.walk.gpa);
        if (e.walk.paging)
            out += fmt::format(" (page offset {:#x}; {})", *e.walk.gpa % e.walk.page_size,
                               rights(e.walk));
        out += '\n';
    }
    if (const auto* t = std::get_if<KvmTranslation>(&e.kvm)) {
        if (!t->valid) {
            out += fmt::format("  KVM_TRANSLATE: no translation{}\n",
                               e.walk.gpa ? ": DISAGREES with the walk above" : ", as above");
        } else {
            bool agrees = e.walk.gpa && *e.walk.gpa == t->gpa;
            out += fmt::format("  KVM_TRANSLATE: GPA {:#x}: {}\n", t->gpa,
                               agrees ? "agrees" : "DISAGREES with the walk above");
        }
    } else {
        out += fmt::format("  KVM_TRANSLATE: failed: {}\n", std::get<std::string>(e.kvm));
    }
    if (!e.walk.gpa) return out;
    if (!e.slot) {
        out += "  memory slot: none holds this GPA: not RAM (an access is an MMIO exit)\n";
        return out;
    }
    const MemorySlot& s = *e.slot;
    const uint64_t offset = *e.walk.gpa - s.gpa;
    out += fmt::format("  memory slot {}: GPA {:#x}-{:#x} at HVA {:#x}; offset {:#x} in it\n",
                       s.slot, s.gpa, s.gpa + s.size - 1, s.hva, offset);
    out += fmt::format("  HVA {:#x} (minivmm's address of the byte)\n", s.hva + offset);
    if (const auto* hpa = std::get_if<uint64_t>(&e.hpa))
        out += fmt::format("  HPA {:#x} (host page frame {:#x}, from /proc/self/pagemap)\n", *hpa,
                           *hpa >> 12);
    else
        out += fmt::format("  HPA not shown: {}\n", std::get<std::string>(e.hpa));
    std::string hex;
    for (uint8_t b : e.bytes) hex += fmt::format(" {:02x}", b);
    out += fmt::format("  read through the HVA:{} \"{}\"\n", hex, printable(e.bytes));
    return out;
}

AddressExplanation AddressExplainer::explain(const Vcpu& vcpu, uint64_t gva) const {
    AddressExplanation e;
    e.gva = gva;
    e.vcpu = vcpu.index();
    auto sregs = vcpu.get_sregs();
    if (!sregs) {
        e.walk.stopped = sregs.error().message();
        e.kvm = std::string("the registers could not be read");
        return e;
    }
    e.regs = {sregs->cr0, sregs->cr3, sregs->cr4, sregs->efer, phys_bits_};
    e.walk = walk_page_tables(memory_, e.regs, gva);
    auto t = vcpu.translate(gva);
    if (t) e.kvm = KvmTranslation{t->valid != 0, t->physical_address};
    else e.kvm = t.error().message();
    if (!e.walk.gpa) return e;
    e.slot = find_slot(slots_, *e.walk.gpa);
    if (!e.slot) return e;
    const uint64_t offset = *e.walk.gpa - e.slot->gpa;
    e.hpa = pagemap_.physical_address(e.slot->hva + offset);
    // The bytes, through the slot's host mapping itself, never past the slot's end.
    const size_t n = static_cast<size_t>(std::min<uint64_t>(MAX_BYTES, e.slot->size - offset));
    const auto* host = reinterpret_cast<const uint8_t*>(e.slot->hva + offset);
    e.bytes.assign(host, host + n);
    return e;
}

} // namespace minivmm
