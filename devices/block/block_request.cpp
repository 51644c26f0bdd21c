// virtio-blk request parsing (Virtio 1.2 §5.2.6).
#include "block/block_request.hpp"

namespace minivmm::block {

namespace {

// Checks [sector*512, +len) inside the disk without overflow.
bool range_ok(uint64_t sector, uint64_t len, uint64_t disk_size, uint64_t& offset) {
    if (sector > disk_size / SECTOR_SIZE) return false;
    offset = sector * SECTOR_SIZE;
    return len <= disk_size - offset;
}

BlockRequest with_status(BlockRequest r, BlockStatus s) {
    r.status = s;
    return r;
}

// DISCARD and WRITE_ZEROES: one segment in the readable data.
BlockRequest parse_segment(virtio::ChainReader& reader, BlockRequest r, const DiskInfo& disk) {
    if (disk.read_only) return with_status(r, BlockStatus::IoErr);
    if (reader.remaining() != sizeof(virtio_blk_discard_write_zeroes))
        return with_status(r, BlockStatus::IoErr);
    auto seg = reader.read_obj<virtio_blk_discard_write_zeroes>();
    if (!seg) return with_status(r, BlockStatus::IoErr);
    const uint64_t sector = seg->sector;
    const uint32_t num = seg->num_sectors;
    const uint32_t flags = seg->flags;
    const uint32_t allowed = r.op == BlockOp::WriteZeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
    if ((flags & ~allowed) != 0) return with_status(r, BlockStatus::Unsupp);
    if (num == 0 || num > disk.max_discard_sectors) return with_status(r, BlockStatus::IoErr);
    r.len = uint64_t{num} * SECTOR_SIZE;
    r.unmap = (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) != 0;
    if (!range_ok(sector, r.len, disk.size, r.offset)) return with_status(r, BlockStatus::IoErr);
    return r;
}

} // namespace

Result<BlockRequest> parse_block_request(virtio::ChainReader& reader, uint32_t writable_len,
                                         const DiskInfo& disk) {
    if (writable_len == 0) return Error(ErrorCode::Invalid, "virtio-blk: no status byte");
    auto header = reader.read_obj<virtio_blk_outhdr>();
    if (!header) return Error(ErrorCode::Invalid, "virtio-blk: header shorter than 16 bytes");
    const uint32_t type = header->type;
    const uint64_t sector = header->sector;

    BlockRequest r;
    r.data_in = writable_len - 1;
    switch (type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT: {
        r.op = type == VIRTIO_BLK_T_IN ? BlockOp::Read : BlockOp::Write;
        r.len = r.op == BlockOp::Read ? r.data_in : reader.remaining();
        if (r.op == BlockOp::Write && disk.read_only) return with_status(r, BlockStatus::IoErr);
        // Data in the wrong direction (readable data for IN, writable data for OUT).
        if ((r.op == BlockOp::Read ? reader.remaining() : r.data_in) != 0)
            return with_status(r, BlockStatus::IoErr);
        if (r.len % SECTOR_SIZE != 0) return with_status(r, BlockStatus::IoErr);
        if (!range_ok(sector, r.len, disk.size, r.offset)) return with_status(r, BlockStatus::IoErr);
        return r;
    }
    case VIRTIO_BLK_T_FLUSH:
        r.op = BlockOp::Flush;
        if (disk.read_only) return with_status(r, BlockStatus::IoErr);
        return r;
    case VIRTIO_BLK_T_GET_ID:
        r.op = BlockOp::GetId;
        if (r.data_in < GET_ID_BYTES) return with_status(r, BlockStatus::IoErr);
        return r;
    case VIRTIO_BLK_T_DISCARD:
        r.op = BlockOp::Discard;
        return parse_segment(reader, r, disk);
    case VIRTIO_BLK_T_WRITE_ZEROES:
        r.op = BlockOp::WriteZeroes;
        return parse_segment(reader, r, disk);
    default:
        return with_status(r, BlockStatus::Unsupp);
    }
}

} // namespace minivmm::block
