// ConsoleDevice (see console_device.hpp).
#include "console/console_device.hpp"

#include <algorithm>
#include <cstring>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>

#include "base/log.hpp"
#include "virtio/chain_io.hpp"

namespace minivmm::console {

ConsoleDevice::ConsoleDevice(std::unique_ptr<ConsoleHost> host, EventSources& events,
                             ConsoleTuning tuning)
    : host_(std::move(host)), events_(events), tuning_(tuning) {}

uint32_t ConsoleDevice::device_type() const { return VIRTIO_ID_CONSOLE; }

uint64_t ConsoleDevice::features() const { return uint64_t{1} << VIRTIO_F_VERSION_1; }

size_t ConsoleDevice::config_size() const { return sizeof(virtio_console_config); }

void ConsoleDevice::read_config(uint64_t, std::span<uint8_t> data) const {
    std::fill(data.begin(), data.end(), uint8_t{0});
}

Result<void> ConsoleDevice::activate(virtio::DeviceContext& ctx, uint64_t) {
    host_->poll();
    pump(ctx);
    return {};
}

void ConsoleDevice::process_queue(virtio::DeviceContext& ctx, size_t) noexcept { pump(ctx); }

void ConsoleDevice::process_backend(virtio::DeviceContext& ctx) noexcept {
    host_->poll();
    pump(ctx);
}

void ConsoleDevice::reset() noexcept {
    pending_.reset();
    want_input_ = want_output_ = false;
    host_->detach(events_);
}

void ConsoleDevice::pause(virtio::DeviceContext&) noexcept { host_->detach(events_); }

void ConsoleDevice::resume(virtio::DeviceContext&) noexcept {
    host_->update(events_, want_input_, want_output_);
}

// Both queues on every wake-up: a new socket client or room on the host end may serve either.
void ConsoleDevice::pump(virtio::DeviceContext& ctx) noexcept {
    transmit(ctx);
    receive(ctx);
    host_->update(events_, want_input_, want_output_);
}

// Guest-controlled: every transmit chain. Only its readable bytes are output, however many
// buffers and however long (none at all completes it at once); writable buffers are ignored
// and nothing is written back (used length 0).
void ConsoleDevice::transmit(virtio::DeviceContext& ctx) noexcept {
    virtio::Queue& q = ctx.queue(TRANSMITQ);
    want_output_ = false;
    if (!q.ready()) return;
    uint64_t budget = tuning_.max_bytes;
    unsigned chains = 0;
    for (;;) {
        if (!pending_) {
            if (q.available() == 0) break;
            if (chains >= tuning_.max_chains) {
                ctx.requeue(TRANSMITQ);
                break;
            }
            auto head = q.pop();
            if (!head) break;   // a broken ring: the core sets DEVICE_NEEDS_RESET
            auto chain = q.chain(*head);
            if (!chain) {
                log(LogLevel::Debug, "virtio-console: chain refused: {}", chain.error().message());
                ++counters_.refused;
                (void)q.add_used(*head, 0);
                ++chains;
                continue;
            }
            pending_.emplace(Pending{*head, std::move(*chain), 0});
        }
        const Sent sent = send_pending(ctx.memory(), budget);
        if (sent == Sent::Full) {
            want_output_ = true;   // held until the host end is writable
            break;
        }
        if (sent == Sent::Budget) {
            ctx.requeue(TRANSMITQ);   // the rest of this chain after the loop's other sources
            break;
        }
        (void)q.add_used(pending_->head, 0);   // cannot fail: the head was popped
        pending_.reset();
        ++chains;
        ++counters_.chains_out;
    }
    if (chains > 0 && q.needs_notification()) ctx.signal_used();
}

ConsoleDevice::Sent ConsoleDevice::send_pending(const GuestMemory& mem, uint64_t& budget) noexcept {
    virtio::ChainReader in(mem, pending_->chain);
    if (!in.skip(pending_->offset)) return Sent::All;   // cannot happen: offset <= readable
    if (in.remaining() == 0) return Sent::All;
    if (budget == 0) return Sent::Budget;
    const uint64_t left = in.remaining();
    const uint64_t count = std::min(left, budget);
    bool full = false;
    // The guest may change the bytes meanwhile: they are data only, never a decision.
    (void)in.read_spans(count, [&](std::span<const uint8_t> piece) -> Result<void> {
        const ConsoleHost::Sent s = host_->write(piece);
        counters_.bytes_out += s.delivered;
        counters_.dropped += s.dropped;
        pending_->offset += s.delivered + s.dropped;
        budget -= s.delivered + s.dropped;
        if (s.delivered + s.dropped == piece.size()) return {};
        full = true;
        return Error(ErrorCode::Host, "console host end full");
    });
    if (full) return Sent::Full;
    return count == left ? Sent::All : Sent::Budget;
}

// Host input into receive buffers, while the guest has them. Reads from the host end only when
// the input buffer is empty, so what minivmm holds is bounded by INPUT_BUFFER.
void ConsoleDevice::receive(virtio::DeviceContext& ctx) noexcept {
    virtio::Queue& q = ctx.queue(RECEIVEQ);
    want_input_ = false;
    if (!q.ready()) return;
    unsigned chains = 0;
    for (;;) {
        if (q.available() == 0) break;   // the driver notifies when it adds buffers
        if (chains >= tuning_.max_chains) {
            ctx.requeue(RECEIVEQ);
            break;
        }
        if (input_begin_ == input_end_) {
            input_begin_ = 0;
            input_end_ = host_->read(input_);
            if (input_end_ == 0) {
                want_input_ = true;   // buffers but no input: wake when there is
                break;
            }
        }
        auto head = q.pop();
        if (!head) break;
        uint32_t written = 0;
        if (auto chain = q.chain(*head)) {
            written = deliver(ctx.memory(), *chain);
        } else {
            log(LogLevel::Debug, "virtio-console: chain refused: {}", chain.error().message());
            ++counters_.refused;
        }
        (void)q.add_used(*head, written);
        ++chains;
    }
    if (chains > 0 && q.needs_notification()) ctx.signal_used();
}

// Guest-controlled: a receive chain's writable buffers, of any number and length (none at all
// completes it with 0 bytes and takes no input); readable buffers are ignored.
uint32_t ConsoleDevice::deliver(const GuestMemory& mem, const virtio::DescriptorChain& chain) noexcept {
    virtio::ChainWriter out(mem, chain);
    const size_t count =
        static_cast<size_t>(std::min<uint64_t>(out.remaining(), input_end_ - input_begin_));
    if (count == 0 || !out.write({input_ + input_begin_, count})) return 0;
    input_begin_ += count;
    counters_.bytes_in += count;
    return static_cast<uint32_t>(count);
}

} // namespace minivmm::console
