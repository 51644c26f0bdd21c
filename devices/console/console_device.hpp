// ConsoleDevice: virtio-console (Virtio 1.2 §5.3, device type 3) with one port and no
// features (no MULTIPORT, SIZE or EMERG_WRITE): receiveq0 (queue 0) carries host input into
// device-writable buffers, transmitq0 (queue 1) carries the guest's output from readable ones.
// Linux's virtio_console driver makes it /dev/hvc0.
//
// Back-pressure: the device holds at most one transmit chain (in guest memory, never copied)
// while the host end is full, and reads input only into a 4 KiB buffer while the guest has
// receive buffers for it; so a slow or absent host end never blocks a thread of minivmm and
// never grows its memory. What the host end cannot take at all (no socket client, a broken
// output) is dropped and counted.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "console/console_host.hpp"
#include "event_sources.hpp"
#include "virtio/virtio_device.hpp"

namespace minivmm::console {

// How much one pass may do before it yields the I/O thread to the other devices
// (DeviceContext::requeue), as virtio-rng's RngTuning does.
struct ConsoleTuning {
    unsigned max_chains = 256;                  // per queue and pass
    uint64_t max_bytes = uint64_t{1} << 20;     // transmitted per pass
};

class ConsoleDevice final : public virtio::VirtioDevice {
public:
    static constexpr size_t NUM_QUEUES = 2;
    static constexpr size_t RECEIVEQ = 0;
    static constexpr size_t TRANSMITQ = 1;
    static constexpr size_t INPUT_BUFFER = 4096;

    // `events` (outlives the device) watches the host end's descriptors.
    ConsoleDevice(std::unique_ptr<ConsoleHost> host, EventSources& events,
                  ConsoleTuning tuning = {});

    uint32_t device_type() const override;
    uint64_t features() const override;
    size_t num_queues() const override { return NUM_QUEUES; }
    // struct virtio_console_config: cols, rows, max_nr_ports, emerg_wr; no feature makes any
    // of them valid, so they read as zero and writes are ignored.
    size_t config_size() const override;
    void read_config(uint64_t offset, std::span<uint8_t> data) const override;

    Result<void> activate(virtio::DeviceContext& ctx, uint64_t features) override;
    void process_queue(virtio::DeviceContext& ctx, size_t index) noexcept override;
    // The host end is readable or writable, or a socket client is waiting.
    void process_backend(virtio::DeviceContext& ctx) noexcept override;
    // Forgets the held transmit chain; input already read stays for the next driver.
    void reset() noexcept override;
    // Stops watching the host end (a readable stdin, a client or one waiting to connect would
    // wake the paused loop for nothing); a held transmit chain and input read stay held.
    void pause(virtio::DeviceContext& ctx) noexcept override;
    void resume(virtio::DeviceContext& ctx) noexcept override;

    struct Counters {
        uint64_t bytes_out = 0;   // guest output the host end took
        uint64_t dropped = 0;     // guest output nobody could take
        uint64_t bytes_in = 0;    // host input given to the guest
        uint64_t chains_out = 0;  // transmit chains completed
        uint64_t refused = 0;     // chains the queue refused (broken descriptors)
    };
    const Counters& counters() const { return counters_; }
    const ConsoleHost& host() const { return *host_; }
    bool holding_output() const { return pending_.has_value(); }

private:
    struct Pending {
        uint16_t head;
        virtio::DescriptorChain chain;
        uint64_t offset;   // readable bytes already written out or dropped
    };
    enum class Sent { All, Full, Budget };

    void pump(virtio::DeviceContext& ctx) noexcept;
    void transmit(virtio::DeviceContext& ctx) noexcept;
    void receive(virtio::DeviceContext& ctx) noexcept;
    Sent send_pending(const GuestMemory& mem, uint64_t& budget) noexcept;
    uint32_t deliver(const GuestMemory& mem, const virtio::DescriptorChain& chain) noexcept;

    std::unique_ptr<ConsoleHost> host_;
    EventSources& events_;
    ConsoleTuning tuning_;
    std::optional<Pending> pending_;   // the transmit chain the host end was too full for
    uint8_t input_[INPUT_BUFFER];      // read from the host end, not yet given to the guest
    size_t input_begin_ = 0, input_end_ = 0;
    bool want_input_ = false;
    bool want_output_ = false;
    Counters counters_;
};

} // namespace minivmm::console
