// virtio-rng through the real MMIO/KVM path: the bare-metal guest virtio-rng-guest.elf
// (guest-images/demos/virtio_rng_guest.c) reads random bytes from the request queue under
// minivmm --rng, checks they look random and exits 0; the --rng rate limit shows in how long
// it takes and in the waits --stats counts. Needs /dev/kvm.
#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "run_process.hpp"

namespace {

using minivmm::test::ProcessResult;
using minivmm::test::run_process;

ProcessResult run_guest(const std::string& rng, const std::string& cmdline) {
    return run_process({MINIVMM_BINARY, "--kernel", MINIVMM_RNG_GUEST, "--mem", "64M", "--rng",
                        rng, "--stats", "--timeout", "60", "--cmdline", "acpi=off " + cmdline},
                       90);
}

// "rng0 (R B/s): B bytes in Q requests, W waits for the rate limit, E source errors" -> B, W.
std::vector<uint64_t> rng_stats(const std::string& err) {
    std::smatch m;
    const std::regex line(R"(rng0 \(\d+ B/s\): (\d+) bytes in \d+ requests, (\d+) waits)");
    if (!std::regex_search(err, m, line)) return {};
    return {std::stoull(m[1]), std::stoull(m[2])};
}

TEST(RngGuest, ABareMetalGuestReadsRandomBytesAndExitsZero) {
    REQUIRE_KVM();
    auto r = run_guest("rate=1048576", "bytes=4096 chunk=256");
    ASSERT_FALSE(r.timed_out) << r.out << r.err;
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("RNG-READ bytes=4096 requests=16 "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("RNG-OK\n"), std::string::npos) << r.out;
    auto stats = rng_stats(r.err);
    ASSERT_EQ(stats.size(), 2u) << r.err;
    EXPECT_EQ(stats[0], 4096u) << r.err;
    EXPECT_EQ(stats[1], 0u) << r.err;   // 4 KiB is far below one period's budget
}

TEST(RngGuest, TheRateLimitHoldsTheGuestToItsBytesPerSecond) {
    REQUIRE_KVM();
    // 4096 B/s: 409 bytes per 100 ms period. 4096 bytes take 11 periods' budgets: the one the
    // first request falls in, then 10 refills at the next period boundaries. Periods are
    // aligned to the clock, not to the first request, so that one may arrive just before a
    // boundary: the whole read takes more than 900 ms, and up to 1 s (a CI run measured
    // 945 ms). The waits are the periods a request waited for.
    const auto start = std::chrono::steady_clock::now();
    auto r = run_guest("rate=4096", "bytes=4096 chunk=256");
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(r.timed_out) << r.out << r.err;
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("RNG-OK\n"), std::string::npos) << r.out;
    EXPECT_GT(took, std::chrono::milliseconds(900)) << "the rate limit let 4 KiB through early";
    auto stats = rng_stats(r.err);
    ASSERT_EQ(stats.size(), 2u) << r.err;
    EXPECT_EQ(stats[0], 4096u) << r.err;
    EXPECT_GE(stats[1], 9u) << r.err;
    EXPECT_LE(stats[1], 16u) << r.err;   // one wait per period at most once per request
}

} // namespace
