// TEXT gzip-compressed with zlib (the format of a kernel's embedded config, IKCFG): for tests
// that build synthetic kernels. Header-only: a test that includes it links ZLIB::ZLIB.
#pragma once

#include <cstdint>
#include <string>
#include <vector>
#include <zlib.h>

#include <gtest/gtest.h>

namespace minivmm::test {

inline std::vector<uint8_t> gzip(const std::string& text) {
    z_stream zs{};
    EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::vector<uint8_t> out(deflateBound(&zs, text.size()) + 64);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    zs.avail_in = static_cast<uInt>(text.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

} // namespace minivmm::test
