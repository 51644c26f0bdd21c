// ConsoleHost: the host end of the virtio console's port (--console): where the guest's output
// goes and where its input comes from. Every call is non-blocking; the device makes them under
// its core lock, on the thread it runs on (the I/O thread, or a vCPU for a status write).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "event_sources.hpp"

namespace minivmm::console {

class ConsoleHost {
public:
    virtual ~ConsoleHost() = default;

    struct Sent {
        size_t delivered = 0;   // taken by the host end
        size_t dropped = 0;     // discarded: nobody to take them (no client), or the end broke
    };
    // Writes what the host end takes now. delivered + dropped < bytes.size() means it is full:
    // write the rest once it is writable (update() with want_output).
    virtual Sent write(std::span<const uint8_t> bytes) noexcept = 0;
    // Reads what is there now, at most out.size() bytes; 0 when nothing is (no input, no
    // client, the end of input).
    virtual size_t read(std::span<uint8_t> out) noexcept = 0;
    // Takes what happened on the host side since the last call (a client waiting to connect).
    virtual void poll() noexcept {}
    // Watches its descriptors for what the device wants: input when it has buffers for it and
    // read() found nothing, output when a write() fell short.
    virtual void update(EventSources& events, bool want_input, bool want_output) noexcept = 0;
    // Stops watching every descriptor (the driver reset the device).
    virtual void detach(EventSources& events) noexcept = 0;
    // "stdio", "file=PATH", "socket=PATH": for reports.
    virtual std::string name() const = 0;
    // Clients accepted so far (a socket end), 0 for the others.
    virtual uint64_t connections() const { return 0; }
};

} // namespace minivmm::console
