// virtio-net transmit (Virtio 1.2 §5.1.6.2): each chain is a vnet header and a frame, checked,
// then sent with up to TX_BATCH others in one backend call (PacketIo::send_batch).
#include "net/net_device.hpp"

#include <cstring>

#include "base/log.hpp"
#include "virtio/chain_io.hpp"

namespace minivmm::net {

using virtio::DescriptorChain;

void NetDevice::process_tx(virtio::DeviceContext& ctx) {
    virtio::Queue& q = ctx.queue(TX_QUEUE);
    if (!q.ready()) return;
    tx_more_ = false;
    if (tx_queued_ > 0 && !flush_tx(ctx)) {   // still EAGAIN: EPOLLOUT brings us back
        signal_tx(ctx);
        return;
    }
    // Kicks are not needed while we drain the ring; re-enabled (and re-checked) when it stays
    // empty through a brief poll. A guest that keeps the ring full is served tx_budget_ frames
    // per wakeup, then the event loop runs its other work and brings us back (tx_more_).
    q.disable_notification();
    for (unsigned taken = 0;;) {
        if (tx_queued_ == TX_BATCH) {
            const bool room = flush_tx(ctx);
            signal_tx(ctx);
            if (!room) return;
        }
        if (taken == tx_budget_) {
            tx_more_ = true;
            if (tx_queued_ > 0) (void)flush_tx(ctx);
            break;
        }
        auto head = q.pop();
        if (!head) {
            if (q.broken()) {
                ctx.set_needs_reset();
                break;
            }
            // What is done so far goes out before we wait for more.
            if (tx_queued_ > 0 && !flush_tx(ctx)) break;   // the rest waits for EPOLLOUT
            signal_tx(ctx);
            if (poll_available(q)) continue;
            if (!q.enable_notification()) break;
            q.disable_notification();
            continue;
        }
        ++taken;
        handle_tx_chain(ctx, *head);
    }
    signal_tx(ctx);
}

// Checks the chain at `head`: a good frame joins the batch, a bad one is dropped.
void NetDevice::handle_tx_chain(virtio::DeviceContext& ctx, uint16_t head) {
    const GuestMemory& mem = ctx.memory();
    auto chain = ctx.queue(TX_QUEUE).chain(head);
    if (!chain || chain->writable_len() > 0) {
        // Guest-controlled: a malformed chain, or a device-writable buffer in a TX chain.
        count_drop(counters_.tx_bad_chain, "malformed transmit chain");
        complete_tx(ctx, head);
        return;
    }
    const size_t len = chain->readable_len();
    if (len < hdr_size_) {
        count_drop(counters_.tx_short, "transmit chain shorter than the vnet header");
        complete_tx(ctx, head);
        return;
    }
    if (len - hdr_size_ > MAX_FRAME_SIZE) {
        count_drop(counters_.tx_too_big, "transmit chain longer than the maximum frame");
        complete_tx(ctx, head);
        return;
    }
    // The header is copied out once; only the copy is checked and sent.
    virtio_net_hdr_v1 hdr{};
    virtio::ChainReader reader(mem, *chain);
    if (!reader.read({reinterpret_cast<uint8_t*>(&hdr), hdr_size_})) {
        count_drop(counters_.tx_bad_chain, "unreadable transmit header");
        complete_tx(ctx, head);
        return;
    }
    hdr.num_buffers = 0;
    if (check_tx_header(hdr, features_, len - hdr_size_) != TxHeaderCheck::Ok) {
        count_drop(counters_.tx_bad_header, "offload or flags not negotiated");
        complete_tx(ctx, head);
        return;
    }
    queue_tx(ctx, std::move(*chain), hdr);
}

void NetDevice::queue_tx(virtio::DeviceContext& ctx, DescriptorChain&& chain,
                         const virtio_net_hdr_v1& hdr) {
    if (gone_) {
        ++counters_.tx_backend_gone;   // not logged: backend_gone said it once
        complete_tx(ctx, chain.head());
        return;
    }
    // pieces[0] is our checked copy of the header; the frame bytes follow from guest memory.
    // Every buffer was validated inside one RAM region, so slice() cannot fail here.
    TxSlot& slot = tx_batch_[tx_queued_];
    slot.frame_len = chain.readable_len() - hdr_size_;
    std::memcpy(slot.bounce.data(), &hdr, hdr_size_);
    slot.pieces.assign(1, iovec{slot.bounce.data(), hdr_size_});
    const bool copy = hdr_size_ + slot.frame_len <= slot.bounce.size();
    size_t skip = hdr_size_;
    for (const virtio::Buffer& b : chain.buffers()) {
        if (b.direction != virtio::Direction::Readable) break;
        if (skip >= b.len) {
            skip -= b.len;
            continue;
        }
        auto host = ctx.memory().slice(b.addr + skip, b.len - skip);
        if (!host) {
            count_drop(counters_.tx_bad_chain, "transmit buffer outside RAM");
            complete_tx(ctx, chain.head());
            return;
        }
        if (copy) {
            std::memcpy(slot.bounce.data() + slot.pieces[0].iov_len, host->data(), host->size());
            slot.pieces[0].iov_len += host->size();
        } else {
            slot.pieces.push_back({host->data(), host->size()});
        }
        skip = 0;
    }
    slot.chain = std::move(chain);
    ++tx_queued_;
}

bool NetDevice::flush_tx(virtio::DeviceContext& ctx) {
    size_t done = 0;
    while (done < tx_queued_) {
        for (size_t i = done; i < tx_queued_; ++i) tx_frames_[i] = tx_batch_[i].pieces;
        const size_t n = io_->send_batch(std::span(tx_frames_).subspan(done, tx_queued_ - done),
                                         std::span(tx_results_).subspan(done));
        size_t blocked = 0;   // how many of the tried ones wait for EPOLLOUT
        for (size_t i = done; i < done + n; ++i) {
            TxSlot& slot = tx_batch_[i];
            const IoResult& r = tx_results_[i];
            switch (r.status) {
            case IoStatus::Ok:
                ++counters_.tx_frames;
                counters_.tx_bytes += slot.frame_len;
                break;
            case IoStatus::WouldBlock:
                ++counters_.tx_would_block;
                // Kept, in order, in front of the ones not tried.
                std::swap(tx_batch_[blocked++], slot);
                continue;
            case IoStatus::Gone:
                backend_gone(ctx, r.err);
                ++counters_.tx_backend_gone;   // not logged: backend_gone said it once
                break;
            case IoStatus::Failed:
                count_drop(counters_.tx_io_errors, std::strerror(r.err));
                break;
            }
            complete_tx(ctx, slot.chain->head());
            slot.chain.reset();
        }
        if (blocked > 0) {
            // The untried ones follow the blocked ones; they wait for EPOLLOUT together.
            for (size_t i = done + n; i < tx_queued_; ++i) std::swap(tx_batch_[blocked++], tx_batch_[i]);
            tx_queued_ = blocked;
            return false;
        }
        done += n;
        if (gone_) {   // nothing more will get through: complete the rest as dropped
            for (size_t i = done; i < tx_queued_; ++i) {
                ++counters_.tx_backend_gone;   // not logged: backend_gone said it once
                complete_tx(ctx, tx_batch_[i].chain->head());
                tx_batch_[i].chain.reset();
            }
            break;
        }
    }
    tx_queued_ = 0;
    return true;
}

// Transmit buffers are only read: the used length is 0 (§2.7.8).
void NetDevice::complete_tx(virtio::DeviceContext& ctx, uint16_t head) {
    add_used(ctx, TX_QUEUE, head, 0);
}

} // namespace minivmm::net
