// libFuzzer target for the snapshot state file's parser (vmm/snapshot/snapshot_codec.cpp), the
// trust boundary of --restore and PUT /snapshot/load. The first byte picks the entry point: the
// whole file (magic, version, length, CRC) or the payload alone (what the CRC covers, which a
// fuzzer would otherwise rarely get past). Oracles:
//  - an accepted input encodes back to the same bytes (the format has one spelling per state);
//  - sanitizers: no read outside the input, no allocation a count in the input asked for
//    unchecked.
#include <cstring>

#include "base/log.hpp"
#include "snapshot/snapshot_codec.hpp"

using namespace minivmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const bool whole_file = data[0] & 1;
    std::span<const uint8_t> input(data + 1, size - 1);
    auto state = whole_file ? decode_snapshot(input) : decode_snapshot_payload(input);
    if (!state) return 0;
    const std::vector<uint8_t> again = encode_snapshot(*state);
    std::span<const uint8_t> compare(again);
    if (!whole_file) compare = compare.subspan(SNAPSHOT_HEADER_SIZE);
    MINIVMM_ASSERT(compare.size() == input.size() &&
                   std::memcmp(compare.data(), input.data(), input.size()) == 0);
    return 0;
}
