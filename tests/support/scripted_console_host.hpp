// ScriptedHost: a virtio-console host end a test or fuzz target controls: how many bytes it
// takes before it is full, whether it drops everything (no client), what input it has.
#pragma once

#include <algorithm>
#include <deque>
#include <limits>
#include <vector>

#include "console/console_host.hpp"

namespace minivmm::test {

class ScriptedHost : public console::ConsoleHost {
public:
    Sent write(std::span<const uint8_t> bytes) noexcept override {
        if (drop) return {0, bytes.size()};
        const size_t n = std::min(bytes.size(), room);
        room -= n;
        out.insert(out.end(), bytes.begin(), bytes.begin() + static_cast<long>(n));
        ++writes;
        return {n, 0};
    }
    size_t read(std::span<uint8_t> buf) noexcept override {
        const size_t n = std::min(buf.size(), in.size());
        std::copy_n(in.begin(), n, buf.begin());
        in.erase(in.begin(), in.begin() + static_cast<long>(n));
        ++reads;
        return n;
    }
    void update(EventSources&, bool input, bool output) noexcept override {
        want_input = input;
        want_output = output;
    }
    void detach(EventSources&) noexcept override { detached = true; }
    std::string name() const override { return "scripted"; }

    size_t room = std::numeric_limits<size_t>::max();
    bool drop = false;
    std::vector<uint8_t> out;
    std::deque<uint8_t> in;
    unsigned writes = 0, reads = 0;
    bool want_input = false, want_output = false, detached = false;
};

} // namespace minivmm::test
