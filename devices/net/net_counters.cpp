// --stats output of a virtio-net device.
#include "net/net_counters.hpp"

#include <fmt/format.h>
#include <utility>

namespace minivmm::net {

std::string format_net_counters(const std::string& name, const NetCounters& c) {
    std::string out = fmt::format("  {}: tx {} frames {} bytes ({} dropped), rx {} frames {} "
                                  "bytes ({} dropped)\n",
                                  name, c.tx_frames, c.tx_bytes, c.tx_drops(), c.rx_frames,
                                  c.rx_bytes, c.rx_drops());
    const std::pair<const char*, uint64_t> reasons[] = {
        {"tx bad chain", c.tx_bad_chain},     {"tx shorter than header", c.tx_short},
        {"tx too big", c.tx_too_big},         {"tx bad header", c.tx_bad_header},
        {"tx I/O errors", c.tx_io_errors},    {"tx tap gone", c.tx_backend_gone},
        {"tx waits (EAGAIN)", c.tx_would_block}, {"rx bad chain", c.rx_bad_chain},
        {"rx no room in buffers", c.rx_no_room}, {"rx shorter than header", c.rx_short},
        {"rx too big", c.rx_too_big},         {"rx bad header", c.rx_bad_header},
        {"rx I/O errors", c.rx_io_errors},    {"rx waits for buffers", c.rx_no_buffers},
        {"link lost (tap gone)", c.link_lost},   {"link back (tap attached again)", c.link_back},
    };
    for (const auto& [what, count] : reasons)
        if (count) out += fmt::format("    {}: {}\n", what, count);
    return out;
}

} // namespace minivmm::net
