// CoreState to and from bytes (see core_state.hpp for the layout).
#include "virtio/core_state.hpp"

namespace minivmm::virtio {

namespace {

constexpr uint32_t CORE_TAG = state_tag("VCOR");
constexpr uint32_t QUEUE_TAG = state_tag("VQUE");
constexpr uint32_t DEVICE_TAG = state_tag("VDEV");
constexpr uint8_t CORE_BEYOND_64 = 1, CORE_ACTIVATED = 2;
constexpr uint8_t QUEUE_READY = 1, QUEUE_BROKEN = 2, QUEUE_SIGNALLED = 4;

void write_queue(StateWriter& out, const Queue::State& q) {
    out.begin_section(QUEUE_TAG, CoreState::QUEUE_VERSION);
    out.u16(q.size);
    out.u64(q.desc);
    out.u64(q.avail);
    out.u64(q.used);
    out.u64(q.features);
    out.u8(static_cast<uint8_t>((q.ready ? QUEUE_READY : 0) | (q.broken ? QUEUE_BROKEN : 0) |
                                (q.signalled_used ? QUEUE_SIGNALLED : 0)));
    out.u16(q.next_avail);
    out.u16(q.next_used);
    out.u16(q.signalled_used.value_or(0));
    out.end_section();
}

Result<Queue::State> read_queue(StateReader& in) {
    auto section = in.section(QUEUE_TAG, CoreState::QUEUE_VERSION, "virtqueue");
    if (!section) return section.error();
    StateReader r(section->fields);
    Queue::State q;
    q.size = r.u16();
    q.desc = r.u64();
    q.avail = r.u64();
    q.used = r.u64();
    q.features = r.u64();
    const uint8_t flags = r.u8();
    q.next_avail = r.u16();
    q.next_used = r.u16();
    const uint16_t signalled = r.u16();
    MINIVMM_TRY(r.finish("virtqueue"));
    if (flags & ~(QUEUE_READY | QUEUE_BROKEN | QUEUE_SIGNALLED))
        return Error(ErrorCode::Input, fmt::format("Saved state: virtqueue flags {:#x}", flags));
    q.ready = flags & QUEUE_READY;
    q.broken = flags & QUEUE_BROKEN;
    if (flags & QUEUE_SIGNALLED) q.signalled_used = signalled;
    return q;
}

} // namespace

void write_core_state(StateWriter& out, const CoreState& s) {
    out.begin_section(CORE_TAG, CoreState::VERSION);
    out.u32(s.device_type);
    out.u64(s.device_features);
    out.u64(s.driver_features);
    out.u32(s.status);
    out.u8(static_cast<uint8_t>((s.driver_features_beyond_64 ? CORE_BEYOND_64 : 0) |
                                (s.activated ? CORE_ACTIVATED : 0)));
    out.u32(s.interrupt_status);
    out.u32(s.config_generation);
    out.u16(static_cast<uint16_t>(s.queues.size()));
    for (const Queue::State& q : s.queues) write_queue(out, q);
    out.begin_section(DEVICE_TAG, s.device_version);
    for (uint8_t b : s.device) out.u8(b);
    out.end_section();
    out.end_section();
}

Result<CoreState> read_core_state(StateReader& in) {
    auto section = in.section(CORE_TAG, CoreState::VERSION, "virtio device");
    if (!section) return section.error();
    StateReader r(section->fields);
    CoreState s;
    s.device_type = r.u32();
    s.device_features = r.u64();
    s.driver_features = r.u64();
    s.status = r.u32();
    const uint8_t flags = r.u8();
    s.interrupt_status = r.u32();
    s.config_generation = r.u32();
    const uint16_t queues = r.u16();
    if (r.failed()) return r.finish("virtio device").error();
    if (flags & ~(CORE_BEYOND_64 | CORE_ACTIVATED))
        return Error(ErrorCode::Input, fmt::format("Saved state: virtio device flags {:#x}", flags));
    if (queues > CoreState::MAX_QUEUES)
        return Error(ErrorCode::Input, fmt::format("Saved state: {} virtqueues", queues));
    s.driver_features_beyond_64 = flags & CORE_BEYOND_64;
    s.activated = flags & CORE_ACTIVATED;
    for (uint16_t i = 0; i < queues; ++i) {
        auto q = read_queue(r);
        if (!q) return q.error();
        s.queues.push_back(*q);
    }
    auto device = r.section(DEVICE_TAG, UINT16_MAX, "device state");
    if (!device) return device.error();
    s.device_version = device->version;
    s.device.assign(device->fields.begin(), device->fields.end());
    MINIVMM_TRY(r.finish("virtio device"));
    return s;
}

} // namespace minivmm::virtio
