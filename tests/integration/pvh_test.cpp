// Boots the small PVH guest (guest-images/demos/pvh_hello.c) with --kernel: it must find our
// hvm_start_info, command line, e820 memory map and RSDP, and exit with the status it chose.
#include <filesystem>
#include <fstream>
#include <regex>
#include <unistd.h>
#include <string>

#include <gtest/gtest.h>

#include "kvm_available.hpp"
#include "run_process.hpp"

namespace {

using minivmm::test::run_process;

TEST(Pvh, GuestSeesStartInfoCmdlineMemoryMapAndRsdp) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--kernel", MINIVMM_PVH_GUEST, "--mem", "64M",
                          "--cmdline", "console=ttyS0 quiet status=7"});
    ASSERT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 7) << r.err;
    EXPECT_EQ(r.out,
              "pvh: start info magic 0x336ec578 version 1\n"
              "pvh: cmdline \"console=ttyS0 quiet status=7\"\n"
              "pvh: memory map, 3 entries\n"
              "pvh:   0x000000000-0x00009fbff type 1\n"
              "pvh:   0x00009fc00-0x0000fffff type 2\n"
              "pvh:   0x000100000-0x003ffffff type 1\n"
              "pvh: RSDP at 0xe0000 signature \"RSD PTR \"\n"
              "pvh: exiting with status 7\n");
}

TEST(Pvh, RamAboveTheHoleAppearsInTheMemoryMap) {
    REQUIRE_KVM();
    auto r = run_process({MINIVMM_BINARY, "--kernel", MINIVMM_PVH_GUEST, "--mem", "4G"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("pvh: memory map, 4 entries\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("pvh:   0x000100000-0x0bfffffff type 1\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("pvh:   0x100000000-0x13fffffff type 1\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("pvh: cmdline \"\"\n"), std::string::npos) << r.out;
}

TEST(Pvh, InitrdIsTheStartInfosModule) {
    REQUIRE_KVM();
    auto path = std::filesystem::temp_directory_path() /
                ("minivmm-pvh-initrd-" + std::to_string(::getpid()));
    std::ofstream(path) << "initrd-marker-1234\nsecond line\n";
    auto r = run_process({MINIVMM_BINARY, "--kernel", MINIVMM_PVH_GUEST, "--mem", "64M",
                          "--initrd", path.string()});
    std::filesystem::remove(path);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // 31 bytes, at the highest page below the end of RAM (64 MiB).
    EXPECT_NE(r.out.find("pvh: module 0 at 0x003fff000 size 31 \"initrd-marker-1234\"\n"),
              std::string::npos)
        << r.out;
}

// Needs no KVM: the command line is checked before /dev/kvm is opened.
TEST(Pvh, OversizedCmdlineIsRefusedBeforeTheGuestStarts) {
    std::string huge(70000, 'x');
    auto r = run_process({MINIVMM_BINARY, "--kernel", MINIVMM_PVH_GUEST, "--cmdline", huge});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("minivmm: error: --cmdline is 70000 bytes, the limit is 65535"),
              std::string::npos)
        << r.err;
}

} // namespace
