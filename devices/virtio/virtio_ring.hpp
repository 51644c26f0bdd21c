// Includes the uapi <linux/virtio_ring.h> for vring_desc, vring_used_elem and VRING_* flags.
// The header's legacy vring_init() assigns void* without a cast and does not compile as C++, so
// every virtio file includes it through this wrapper, which leaves the legacy part out.
#pragma once

#ifndef VIRTIO_RING_NO_LEGACY
#define VIRTIO_RING_NO_LEGACY
#endif
#include <linux/virtio_ring.h>

#include <bit>
#include <cstdint>

namespace minivmm::virtio {

// Virtio 1.x rings are little-endian; we read them in host order, so the host must be too.
static_assert(std::endian::native == std::endian::little, "virtio rings are little-endian");
static_assert(sizeof(vring_desc) == 16);
static_assert(sizeof(vring_used_elem) == 8);

// Feature bits the queue layer itself cares about (Virtio 1.2 §6).
constexpr uint64_t FEATURE_INDIRECT_DESC = uint64_t{1} << VIRTIO_RING_F_INDIRECT_DESC;
constexpr uint64_t FEATURE_EVENT_IDX = uint64_t{1} << VIRTIO_RING_F_EVENT_IDX;

} // namespace minivmm::virtio
