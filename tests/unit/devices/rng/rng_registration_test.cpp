#include "rng/rng_registration.hpp"

#include <gtest/gtest.h>

#include "rng/rng_device.hpp"

namespace minivmm::rng {
namespace {

TEST(RngOption, DefaultsAndReadsTheRate) {
    EXPECT_EQ(*parse_rng_option(""), RngTuning::DEFAULT_RATE);
    EXPECT_EQ(*parse_rng_option("rate=4096"), 4096u);
    EXPECT_EQ(*parse_rng_option("rate=10"), 10u);
}

TEST(RngOption, RefusesOtherTextAndRatesOutOfRange) {
    for (const char* bad : {"rate=", "rate=9", "rate=-1", "rate=12x", "speed=100", "rate=1,x",
                            "rate=99999999999", "rate=18446744073709551616"}) {
        auto r = parse_rng_option(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code(), ErrorCode::Usage) << bad;
        }
    }
}

TEST(RngOption, TheTypeIsOneQueueNamedVirtioRng) {
    EXPECT_EQ(DEVICE_TYPE.option, "rng");
    EXPECT_EQ(DEVICE_TYPE.name, "virtio-rng");
    EXPECT_EQ(DEVICE_TYPE.num_queues, 1u);
    EXPECT_TRUE(DEVICE_TYPE.value_optional);
    auto args = DEVICE_TYPE.parse("rate=2000", {});
    ASSERT_TRUE(args);
    EXPECT_EQ((*args)->host_end(), "getrandom, 2000 B/s");
}

} // namespace
} // namespace minivmm::rng
