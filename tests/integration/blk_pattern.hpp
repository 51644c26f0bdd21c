// The bare-metal virtio-blk guest's data pattern and host-side file helpers, shared by the
// tests that run it (blk_guest_test.cpp, pause_test.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace minivmm::test::blk {

namespace fs = std::filesystem;

// The guest's pattern (guest-images/demos/blk_guest.h): byte `offset` of disk `disk` is byte
// offset % 8 of splitmix64(seed ^ disk << 56 ^ offset / 8).
inline uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

inline std::vector<uint8_t> pattern(uint64_t seed, unsigned disk, uint64_t offset, uint64_t len) {
    std::vector<uint8_t> v(len);
    for (uint64_t i = 0; i < len; ++i) {
        uint64_t off = offset + i;
        v[i] = static_cast<uint8_t>(splitmix64(seed ^ uint64_t{disk} << 56 ^ off / 8) >> (8 * (off % 8)));
    }
    return v;
}

inline std::vector<uint8_t> read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

inline void write_file(const fs::path& p, const std::vector<uint8_t>& bytes) {
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Where the first difference is, for a readable failure message.
inline std::string compare(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want,
                    uint64_t at) {
    for (uint64_t i = 0; i < want.size(); ++i)
        if (at + i >= got.size() || got[at + i] != want[i])
            return "differs at byte " + std::to_string(at + i);
    return "";
}

inline uint64_t random_seed() {
    return std::random_device{}() | uint64_t{std::random_device{}()} << 32;
}

} // namespace minivmm::test::blk
