// parse_block_request: a virtio-blk request (Virtio 1.2 §5.2.6) read from a descriptor chain
// and checked against the disk, as a pure function: no I/O, no device state.
#pragma once

#include <cstdint>

#include <linux/virtio_blk.h>

#include "base/result.hpp"
#include "block/block_backend.hpp"
#include "virtio/chain_io.hpp"

namespace minivmm::block {

enum class BlockStatus : uint8_t {
    Ok = VIRTIO_BLK_S_OK,
    IoErr = VIRTIO_BLK_S_IOERR,
    Unsupp = VIRTIO_BLK_S_UNSUPP,
};

enum class BlockOp { Read, Write, Flush, GetId, Discard, WriteZeroes, None };

// What the request is about, as far as parsing can tell.
struct DiskInfo {
    uint64_t size;        // bytes, a multiple of 512
    bool read_only;
    uint32_t max_discard_sectors;   // per segment, for DISCARD and WRITE_ZEROES
};

struct BlockRequest {
    BlockOp op = BlockOp::None;
    // Not Ok: answer with this status and do no I/O.
    BlockStatus status = BlockStatus::Ok;
    uint64_t offset = 0;   // bytes; [offset, offset+len) lies inside the disk when status is Ok
    uint64_t len = 0;      // bytes (Read, Write, Discard, WriteZeroes)
    bool unmap = false;    // WriteZeroes: VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP
    // Writable bytes before the status byte (the last writable byte of the chain): the data of
    // Read and GetId; skipped for the other types.
    uint64_t data_in = 0;
};

constexpr uint32_t GET_ID_BYTES = VIRTIO_BLK_ID_BYTES;   // 20

// `reader` is positioned at the start of the chain; `writable_len` is the chain's writable
// length. Refuses (error: the device completes the chain with used length 0 and writes
// nothing) a chain with fewer than 16 readable bytes for the header or without a writable
// byte for the status. Otherwise the request carries its status:
//  - IN: data = every writable byte but the status; OUT: data = readable bytes after the
//    header (the header may be split across descriptors, §2.6.4 message framing); data in the
//    other direction too (readable after an IN header, writable before an OUT status): IoErr;
//  - data length not a multiple of 512, sector * 512 overflowing, or the range past the end of
//    the disk: IoErr; OUT, DISCARD, WRITE_ZEROES and FLUSH on a read-only disk: IoErr;
//  - FLUSH: the sector and any data are ignored;
//  - GET_ID with fewer than 20 data bytes: IoErr;
//  - DISCARD / WRITE_ZEROES: exactly one 16-byte segment (max_discard_seg = 1), else IoErr;
//    num_sectors above the limit or 0: IoErr; unknown flags, or UNMAP on DISCARD: Unsupp;
//  - any other type: Unsupp.
// The header and segment are copied out of the guest once (ChainReader) and only the copies
// are used.
Result<BlockRequest> parse_block_request(virtio::ChainReader& reader, uint32_t writable_len,
                                         const DiskInfo& disk);

} // namespace minivmm::block
