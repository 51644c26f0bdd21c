// The state file's format (README "Managing a VM" documents it):
//   magic "MVMSNAP\0" (8 bytes), format version u32, CRC-32 (zlib) of the payload u32,
//   payload length u64, then the payload: StateWriter sections (base/state_writer.hpp)
//   MACH (machine), CPID (vCPU 0's CPUID entries), VCPU x cpus, IRQC (when the machine has the irqchip), CLCK, DEVS.
// Little-endian throughout. KVM structures are stored as blobs of exactly their uapi size.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.hpp"
#include "snapshot/snapshot_state.hpp"

namespace minivmm {

constexpr uint32_t SNAPSHOT_FORMAT_VERSION = 1;
constexpr size_t SNAPSHOT_HEADER_SIZE = 24;
// Bounds of the parser, far above any machine minivmm builds.
constexpr uint32_t SNAPSHOT_MAX_CPUS = 64;
constexpr uint32_t SNAPSHOT_MAX_DEVICES = 64;
constexpr uint32_t SNAPSHOT_MAX_MSRS = 1024;
constexpr uint32_t SNAPSHOT_MAX_CPUID = 256;
constexpr size_t SNAPSHOT_MAX_STRING = 4096;
constexpr size_t SNAPSHOT_MAX_DEVICE_STATE = 1 << 20;
constexpr uint64_t SNAPSHOT_MAX_MEM = 1ULL << 40;
constexpr uint64_t SNAPSHOT_MAX_FILE = 64ULL << 20;   // a state file is read whole

// The whole file: header, CRC, payload.
std::vector<uint8_t> encode_snapshot(const SnapshotState& state);

// Trust boundary: `file` is untrusted (truncated, corrupted, forged or from another version).
// Checks the magic, the version, the length and the CRC, then parses the payload with every
// count, length and value range-checked. An error names what is wrong; nothing is returned
// unless the whole file was read and found consistent.
Result<SnapshotState> decode_snapshot(std::span<const uint8_t> file);
// The payload alone (what the CRC covers): the same checks but the header's.
Result<SnapshotState> decode_snapshot_payload(std::span<const uint8_t> payload);

} // namespace minivmm
