// The disk's part in a restore: an override's text (another image, the snapshot's read-only
// flag and serial kept), and the device state that refuses an image of another size.
#include "block/block_registration.hpp"

#include <gtest/gtest.h>

#include "device_override.hpp"
#include "block/block_device.hpp"
#include "block/memory_backend.hpp"

namespace minivmm::block {
namespace {

using test::override_of;

TEST(BlockRegistration, AnOverrideChangesThePathAndKeepsReadOnlyAndSerial) {
    ASSERT_NE(DEVICE_TYPE.restore_override, nullptr);
    EXPECT_EQ(override_of(DEVICE_TYPE, "a.img", "b.img").value(), "b.img");
    EXPECT_EQ(override_of(DEVICE_TYPE, "a.img,ro,serial=s1", "b.img").value(), "b.img,ro,serial=s1");
    EXPECT_EQ(override_of(DEVICE_TYPE, "a.img,ro,serial=s1", "b.img,ro,serial=s1").value(),
              "b.img,ro,serial=s1");
    auto ro = override_of(DEVICE_TYPE, "a.img", "b.img,ro");
    ASSERT_FALSE(ro);
    EXPECT_EQ(ro.error().code(), ErrorCode::Input);
    EXPECT_NE(ro.error().message().find("is writable"), std::string::npos) << ro.error().message();
    auto serial = override_of(DEVICE_TYPE, "a.img,serial=s1", "b.img,serial=s2");
    ASSERT_FALSE(serial);
    EXPECT_NE(serial.error().message().find("serial 's1'"), std::string::npos)
        << serial.error().message();
}

std::vector<uint8_t> saved_state(uint64_t size) {
    BlockDevice d(std::make_unique<MemoryBackend>(size), "");
    StateWriter w;
    d.save_state(w);
    return w.take();
}

TEST(BlockRegistration, TheStateRefusesAnImageOfAnotherSize) {
    const std::vector<uint8_t> one_mib = saved_state(1 << 20);
    BlockDevice same(std::make_unique<MemoryBackend>(1 << 20), "");
    StateReader in(one_mib);
    EXPECT_TRUE(same.restore_state(in, same.state_version()));
    BlockDevice bigger(std::make_unique<MemoryBackend>(2 << 20), "");
    StateReader again(one_mib);
    auto r = bigger.restore_state(again, bigger.state_version());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::Input);
    EXPECT_NE(r.error().message().find("the disk image is 2097152 bytes (4096 sectors), the "
                                       "snapshot's disk had 2048 sectors"),
              std::string::npos) << r.error().message();
    // Version 1 has no size to check: the flag alone.
    const std::vector<uint8_t> v1 = {0};
    StateReader old(v1);
    EXPECT_TRUE(bigger.restore_state(old, 1));
}

} // namespace
} // namespace minivmm::block
