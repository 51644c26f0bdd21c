// The state file: header and CRC, and the MACH, IRQC, CLCK and DEVS sections (VCPU is in
// vcpu_record.cpp). Layout in snapshot_codec.hpp; every read below is of untrusted bytes.
#include "snapshot/snapshot_codec.hpp"

#include <cstring>
#include <set>

#include <fmt/format.h>
#include <zlib.h>

#include "snapshot/snapshot_fields.hpp"

namespace minivmm {

namespace {
constexpr char MAGIC[8] = {'M', 'V', 'M', 'S', 'N', 'A', 'P', '\0'};
constexpr uint32_t MACH = state_tag("MACH");
constexpr uint32_t CPID = state_tag("CPID");
constexpr uint32_t VCPU = state_tag("VCPU");
constexpr uint32_t IRQC = state_tag("IRQC");
constexpr uint32_t CLCK = state_tag("CLCK");
constexpr uint32_t DEVS = state_tag("DEVS");
constexpr uint64_t PAGE = 4096;
constexpr uint64_t MIN_MEM = 1 << 20;

Error bad(const std::string& what) {
    return Error(ErrorCode::Input, fmt::format("Snapshot state: {}", what));
}

uint32_t crc_of(std::span<const uint8_t> bytes) {
    // zlib's crc32 takes a uInt length: feed it in pieces that fit.
    uLong crc = crc32(0L, Z_NULL, 0);
    while (!bytes.empty()) {
        const size_t n = std::min<size_t>(bytes.size(), 1U << 30);
        crc = crc32(crc, bytes.data(), static_cast<uInt>(n));
        bytes = bytes.subspan(n);
    }
    return static_cast<uint32_t>(crc);
}

void put_u32_at(std::vector<uint8_t>& out, size_t at, uint32_t v) {
    for (size_t i = 0; i < 4; ++i) out[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

uint64_t get_le(std::span<const uint8_t> bytes, size_t at, size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(bytes[at + i]) << (8 * i);
    return v;
}

void write_machine(StateWriter& w, const MachineRecord& m) {
    w.u64(m.mem_size);
    w.u32(m.cpus);
    w.u8(m.irqchip ? 1 : 0);
    put_string(w, m.demo);
    put_string(w, m.kernel);
    w.u32(static_cast<uint32_t>(m.devices.size()));
    for (const auto& d : m.devices) {
        put_string(w, d.option);
        put_string(w, d.text);
    }
}

Result<MachineRecord> read_machine(StateReader& r) {
    MachineRecord m;
    m.mem_size = r.u64();
    if (r.failed() || m.mem_size < MIN_MEM || m.mem_size > SNAPSHOT_MAX_MEM ||
        m.mem_size % PAGE != 0)
        return bad(fmt::format("memory size {:#x} is out of range", m.mem_size));
    m.cpus = r.u32();
    if (r.failed() || m.cpus == 0 || m.cpus > SNAPSHOT_MAX_CPUS)
        return bad(fmt::format("vCPU count {} is out of range", m.cpus));
    if (!get_flag(r, m.irqchip)) return bad("the irqchip flag is malformed");
    if (!get_string(r, m.demo) || !get_string(r, m.kernel)) return bad("the guest is malformed");
    if (m.demo.empty() == m.kernel.empty()) return bad("it names neither or both a demo and a kernel");
    const uint32_t count = r.u32();
    if (r.failed() || count > SNAPSHOT_MAX_DEVICES)
        return bad(fmt::format("device count {} is out of range", count));
    m.devices.resize(count);
    for (auto& d : m.devices)
        if (!get_string(r, d.option) || !get_string(r, d.text) || d.option.empty())
            return bad("a device option is malformed");
    return m;
}

Result<std::vector<kvm_cpuid_entry2>> read_cpuid(StateReader& r) {
    const uint32_t count = r.u32();
    // A blob is its u32 length and the entry: checked before anything is allocated.
    if (r.failed() || count == 0 || count > SNAPSHOT_MAX_CPUID ||
        count > r.remaining() / (4 + sizeof(kvm_cpuid_entry2)))
        return bad(fmt::format("CPUID entry count {} is out of range", count));
    std::vector<kvm_cpuid_entry2> entries(count);
    for (kvm_cpuid_entry2& e : entries)
        if (!get_struct(r, e)) return bad("a CPUID entry is malformed");
    return entries;
}

Result<IrqchipRecord> read_irqchip(StateReader& r) {
    IrqchipRecord c;
    if (!get_struct(r, c.pic_master) || !get_struct(r, c.pic_slave) || !get_struct(r, c.ioapic) ||
        !get_struct(r, c.pit))
        return bad("the irqchip section is malformed");
    if (c.pic_master.chip_id != KVM_IRQCHIP_PIC_MASTER ||
        c.pic_slave.chip_id != KVM_IRQCHIP_PIC_SLAVE || c.ioapic.chip_id != KVM_IRQCHIP_IOAPIC)
        return bad("an irqchip has the wrong chip id");
    // Modes 0..5, or 0xff: a channel never programmed (KVM's reset value).
    for (const kvm_pit_channel_state& ch : c.pit.channels)
        if ((ch.mode > 5 && ch.mode != 0xff) || ch.rw_mode > 4 || ch.read_state > 4 || ch.write_state > 4)
            return bad(fmt::format("a PIT channel is out of range (mode {}, rw_mode {}, read "
                                   "state {}, write state {})", ch.mode, ch.rw_mode,
                                   ch.read_state, ch.write_state));
    return c;
}

Result<std::vector<DeviceRecord>> read_devices(StateReader& r) {
    const uint32_t count = r.u32();
    if (r.failed() || count > SNAPSHOT_MAX_DEVICES)
        return bad(fmt::format("device state count {} is out of range", count));
    std::vector<DeviceRecord> devices(count);
    std::set<std::string> names;
    for (DeviceRecord& d : devices) {
        if (!get_string(r, d.name) || d.name.empty() || !names.insert(d.name).second)
            return bad("a device state's name is malformed or repeated");
        d.version = r.u16();
        auto bytes = r.blob(SNAPSHOT_MAX_DEVICE_STATE);
        if (r.failed()) return bad(fmt::format("the state of {} is malformed", d.name));
        d.bytes.assign(bytes.begin(), bytes.end());
    }
    return devices;
}

// One section's fields through `read`, which must consume them exactly.
template <class F>
auto in_section(StateReader& r, uint32_t tag, const char* what, F read)
    -> decltype(read(std::declval<StateReader&>())) {
    auto section = r.section(tag, 1, what);
    if (!section) return section.error();
    StateReader fields(section->fields);
    auto value = read(fields);
    if (!value) return value;
    if (auto done = fields.finish(what); !done) return done.error();
    return value;
}
} // namespace

bool get_string(StateReader& r, std::string& out) {
    auto bytes = r.blob(SNAPSHOT_MAX_STRING);
    if (r.failed() || std::memchr(bytes.data(), 0, bytes.size()) != nullptr) return false;
    out.assign(bytes.begin(), bytes.end());
    return true;
}

std::vector<uint8_t> encode_snapshot(const SnapshotState& s) {
    StateWriter w;
    w.begin_section(MACH, 1);
    write_machine(w, s.machine);
    w.end_section();
    w.begin_section(CPID, 1);
    w.u32(static_cast<uint32_t>(s.cpuid.size()));
    for (const kvm_cpuid_entry2& e : s.cpuid) put_struct(w, e);
    w.end_section();
    for (const VcpuRecord& v : s.vcpus) {
        w.begin_section(VCPU, 1);
        write_vcpu(w, v);
        w.end_section();
    }
    if (s.irqchip) {
        w.begin_section(IRQC, 1);
        put_struct(w, s.irqchip->pic_master);
        put_struct(w, s.irqchip->pic_slave);
        put_struct(w, s.irqchip->ioapic);
        put_struct(w, s.irqchip->pit);
        w.end_section();
    }
    w.begin_section(CLCK, 1);
    w.u8(s.clock ? 1 : 0);
    if (s.clock) put_struct(w, *s.clock);
    w.end_section();
    w.begin_section(DEVS, 1);
    w.u32(static_cast<uint32_t>(s.devices.size()));
    for (const DeviceRecord& d : s.devices) {
        put_string(w, d.name);
        w.u16(d.version);
        w.blob(d.bytes);
    }
    w.end_section();
    const std::vector<uint8_t> payload = w.take();

    std::vector<uint8_t> file(SNAPSHOT_HEADER_SIZE);
    std::memcpy(file.data(), MAGIC, sizeof MAGIC);
    put_u32_at(file, 8, SNAPSHOT_FORMAT_VERSION);
    put_u32_at(file, 12, crc_of(payload));
    put_u32_at(file, 16, static_cast<uint32_t>(payload.size()));
    put_u32_at(file, 20, static_cast<uint32_t>(static_cast<uint64_t>(payload.size()) >> 32));
    file.insert(file.end(), payload.begin(), payload.end());
    return file;
}

Result<SnapshotState> decode_snapshot(std::span<const uint8_t> file) {
    if (file.size() < SNAPSHOT_HEADER_SIZE) return bad("the file is shorter than its header");
    if (std::memcmp(file.data(), MAGIC, sizeof MAGIC) != 0)
        return bad("not a minivmm snapshot (wrong magic)");
    const auto version = static_cast<uint32_t>(get_le(file, 8, 4));
    if (version != SNAPSHOT_FORMAT_VERSION)
        return bad(fmt::format("format version {} is not supported (this minivmm reads {})",
                               version, SNAPSHOT_FORMAT_VERSION));
    const uint64_t length = get_le(file, 16, 8);
    if (length != file.size() - SNAPSHOT_HEADER_SIZE)
        return bad(fmt::format("the header says {} bytes of state, the file has {} (truncated?)",
                               length, file.size() - SNAPSHOT_HEADER_SIZE));
    auto payload = file.subspan(SNAPSHOT_HEADER_SIZE);
    if (crc_of(payload) != static_cast<uint32_t>(get_le(file, 12, 4)))
        return bad("the CRC does not match (the file is corrupted)");
    return decode_snapshot_payload(payload);
}

Result<SnapshotState> decode_snapshot_payload(std::span<const uint8_t> payload) {
    StateReader r(payload);
    SnapshotState s;
    auto machine = in_section(r, MACH, "the machine section", read_machine);
    if (!machine) return machine.error();
    s.machine = std::move(*machine);
    auto cpuid = in_section(r, CPID, "the CPUID section", read_cpuid);
    if (!cpuid) return cpuid.error();
    s.cpuid = std::move(*cpuid);
    for (uint32_t i = 0; i < s.machine.cpus; ++i) {
        auto vcpu = in_section(r, VCPU, "a vCPU section",
                               [i](StateReader& f) { return read_vcpu(f, i); });
        if (!vcpu) return vcpu.error();
        s.vcpus.push_back(std::move(*vcpu));
    }
    if (s.machine.irqchip) {
        auto chip = in_section(r, IRQC, "the irqchip section", read_irqchip);
        if (!chip) return chip.error();
        s.irqchip = *chip;
    }
    auto clock = in_section(r, CLCK, "the clock section",
                            [](StateReader& f) -> Result<std::optional<kvm_clock_data>> {
                                std::optional<kvm_clock_data> c;
                                bool present = false;
                                if (!get_flag(f, present)) return bad("the clock is malformed");
                                if (present && !get_struct(f, c.emplace()))
                                    return bad("the clock is malformed");
                                return c;
                            });
    if (!clock) return clock.error();
    s.clock = *clock;
    auto devices = in_section(r, DEVS, "the device section", read_devices);
    if (!devices) return devices.error();
    s.devices = std::move(*devices);
    if (auto done = r.finish("the state file"); !done) return done.error();
    return s;
}

} // namespace minivmm
