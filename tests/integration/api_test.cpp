// The management API (--api-socket) end to end, with Debian's curl as the client (installed by
// tools/install-deps; a test without it skips, saying so) and `minivmm ctl`: every endpoint's
// happy path and refusals with Firecracker's status codes, pause and resume of a running guest
// (the spin demo counts on port 0x80: its exit count stops while paused and moves after), a VM
// configured and started through the API (the virtio-blk guest as its kernel), and the socket
// file's life (mode 0600, removed at the end, a live one never taken over). Needs /dev/kvm.
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "temp_dir.hpp"

#include "api_curl.hpp"
#include "blk_pattern.hpp"
#include "kvm_available.hpp"
#include "pty_process.hpp"
#include "report_progress.hpp"
#include "run_process.hpp"
#include "wait_for_socket.hpp"

namespace {

namespace fs = std::filesystem;
using minivmm::test::Answer;
using minivmm::test::curl;
using minivmm::test::TempDir;
using minivmm::test::BackgroundProcess;
using minivmm::test::progress_now;
using minivmm::test::PtyProcess;
using minivmm::test::run_process;
using minivmm::test::wait_for_socket;

TEST(ApiSocket, EveryEndpointOnARunningGuestAndPauseStopsItsProgress) {
    REQUIRE_KVM();
    REQUIRE_CURL();
    TempDir dir("minivmm-api");
    const fs::path sock = dir.path / "api.sock";
    PtyProcess vm({MINIVMM_BINARY, "--demo", "spin", "--timeout", "60", "--api-socket", sock.string()});
    ASSERT_TRUE(vm.wait_for_output("spin demo: running", 10000)) << vm.output();
    ASSERT_TRUE(wait_for_socket(sock, 5000));
    struct stat st{};
    ASSERT_EQ(::lstat(sock.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);

    Answer info = curl(sock, "GET", "/");
    EXPECT_EQ(info.status, 200);
    EXPECT_NE(info.body.find("\"state\":\"Running\""), std::string::npos) << info.body;
    EXPECT_NE(info.body.find("\"app_name\":\"minivmm\""), std::string::npos) << info.body;
    Answer config = curl(sock, "GET", "/vm/config");
    EXPECT_EQ(config.status, 200);
    EXPECT_NE(config.body.find("\"machine-config\":{"), std::string::npos) << config.body;
    EXPECT_EQ(curl(sock, "GET", "/machine-config").status, 200);

    // Refusals: wrong method, unknown path, bad JSON, unknown field, too large, wrong state.
    EXPECT_FAULT(curl(sock, "DELETE", "/vm"), "Invalid request method and/or path: DELETE /vm.");
    EXPECT_FAULT(curl(sock, "GET", "/snapshot/create"), "Invalid request method and/or path");
    EXPECT_FAULT(curl(sock, "PUT", "/snapshot/create", R"({"snapshot_path":"/tmp/s","mem_file_path":"/tmp/m"})"),
                 "snapshot refused: the VM is not paused");
    EXPECT_FAULT(curl(sock, "PATCH", "/vm", "{\"state\":"), "not valid JSON");
    EXPECT_FAULT(curl(sock, "PATCH", "/vm", R"({"state":"Paused","when":"now"})"), "unknown field `when`");
    Answer big = curl(sock, "PUT", "/boot-source",
                      R"({"kernel_image_path":")" + std::string(60000, 'k') + "\"}");
    EXPECT_EQ(big.status, 413) << big.body.substr(0, 200);
    EXPECT_FAULT(curl(sock, "PUT", "/boot-source", R"({"kernel_image_path":"/k"})"), "after starting");
    EXPECT_FAULT(curl(sock, "PUT", "/machine-config", R"({"vcpu_count":1,"mem_size_mib":64})"),
                 "after starting");
    EXPECT_FAULT(curl(sock, "PUT", "/drives/d", R"({"drive_id":"d","path_on_host":"/x","is_root_device":false})"),
                 "after starting");
    EXPECT_FAULT(curl(sock, "PUT", "/network-interfaces/n", R"({"iface_id":"n","host_dev_name":"tap9"})"),
                 "after starting");
    EXPECT_FAULT(curl(sock, "PUT", "/actions", R"({"action_type":"InstanceStart"})"), "after starting");

    // Pause: the guest's counter (its exits to port 0x80) stands still, then moves again.
    Answer paused = curl(sock, "PATCH", "/vm", R"({"state":"Paused"})");
    EXPECT_EQ(paused.status, 204) << paused.body;
    EXPECT_NE(curl(sock, "GET", "/").body.find("\"state\":\"Paused\""), std::string::npos);
    const std::string first = progress_now(vm);
    vm.read_for(1000);
    const std::string second = progress_now(vm);
    ASSERT_NE(first.find("vcpu0 "), std::string::npos) << vm.output();
    EXPECT_EQ(first, second) << "the guest ran while paused";
    EXPECT_EQ(curl(sock, "PATCH", "/vm", R"({"state":"Resumed"})").status, 204);
    vm.read_for(300);
    const std::string third = progress_now(vm);
    EXPECT_NE(third, second) << "the guest did not run again after the resume";
    EXPECT_NE(curl(sock, "GET", "/").body.find("\"state\":\"Running\""), std::string::npos);

    // minivmm ctl, then stop: SendCtrlAltDel ends the VM as a guest reboot does (exit 0).
    auto status = run_process({MINIVMM_BINARY, "ctl", sock.string(), "status"});
    EXPECT_EQ(status.exit_code, 0) << status.err;
    EXPECT_NE(status.out.find("\"state\": \"Running\""), std::string::npos) << status.out;
    auto pause = run_process({MINIVMM_BINARY, "ctl", sock.string(), "pause"});
    EXPECT_EQ(pause.exit_code, 0) << pause.err;
    EXPECT_EQ(pause.out, "paused\n");
    auto stop = run_process({MINIVMM_BINARY, "ctl", sock.string(), "stop"});
    EXPECT_EQ(stop.exit_code, 0) << stop.err;
    EXPECT_EQ(vm.finish(20), 0) << vm.output();
    EXPECT_FALSE(fs::exists(sock)) << "the socket file outlived minivmm";
    auto gone = run_process({MINIVMM_BINARY, "ctl", sock.string(), "status"});
    EXPECT_EQ(gone.exit_code, 5);
    EXPECT_NE(gone.err.find("cannot connect"), std::string::npos) << gone.err;
    auto usage = run_process({MINIVMM_BINARY, "ctl", sock.string(), "reboot"});
    EXPECT_EQ(usage.exit_code, 2);
}

TEST(ApiSocket, AVmConfiguredAndStartedThroughTheApi) {
    REQUIRE_KVM();
    REQUIRE_CURL();
    using namespace minivmm::test::blk;
    TempDir dir("minivmm-api");
    const fs::path sock = dir.path / "api.sock";
    const fs::path image = dir.path / "disk.img";
    write_file(image, std::vector<uint8_t>(512 * 256, 0));
    BackgroundProcess vm({MINIVMM_BINARY, "--api-socket", sock.string(), "--timeout", "60"});
    ASSERT_TRUE(wait_for_socket(sock, 5000));
    EXPECT_NE(curl(sock, "GET", "/").body.find("\"state\":\"Not started\""), std::string::npos);
    EXPECT_FAULT(curl(sock, "PATCH", "/vm", R"({"state":"Paused"})"), "before starting");
    EXPECT_FAULT(curl(sock, "PUT", "/actions", R"({"action_type":"SendCtrlAltDel"})"), "before starting");
    EXPECT_FAULT(curl(sock, "PUT", "/actions", R"({"action_type":"InstanceStart"})"), "boot source");
    auto refused = run_process({MINIVMM_BINARY, "ctl", sock.string(), "pause"});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("before starting"), std::string::npos) << refused.err;

    // A kernel that does not exist: the start fails with the reason, and can be tried again.
    EXPECT_EQ(curl(sock, "PUT", "/boot-source", R"({"kernel_image_path":")" + (dir.path / "none").string() +
                                                    "\"}").status, 204);
    EXPECT_FAULT(curl(sock, "PUT", "/actions", R"({"action_type":"InstanceStart"})"), "none");
    EXPECT_EQ(curl(sock, "PUT", "/boot-source",
                   R"({"kernel_image_path":")" + std::string(MINIVMM_BLK_GUEST) +
                       R"(","boot_args":"acpi=off seed=7 sectors=256"})").status, 204);
    EXPECT_EQ(curl(sock, "PUT", "/machine-config", R"({"vcpu_count":1,"mem_size_mib":64})").status, 204);
    EXPECT_EQ(curl(sock, "PUT", "/drives/data",
                   R"({"drive_id":"data","path_on_host":")" + image.string() +
                       R"(","is_root_device":false,"is_read_only":false})").status, 204);
    Answer config = curl(sock, "GET", "/vm/config");
    EXPECT_NE(config.body.find("\"path_on_host\":\"" + image.string() + "\""), std::string::npos) << config.body;
    EXPECT_NE(config.body.find("\"mem_size_mib\":64"), std::string::npos) << config.body;
    Answer start = curl(sock, "PUT", "/actions", R"({"action_type":"InstanceStart"})");
    EXPECT_EQ(start.status, 204) << start.body;
    ASSERT_TRUE(vm.wait_for_output("VBLK-OK", 30000)) << vm.output();
    auto r = vm.finish(0, 30);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(compare(read_file(image), pattern(7, 0, 0, 256 * 512), 0), "");
    EXPECT_FALSE(fs::exists(sock));
}

TEST(ApiSocket, ALiveSocketIsNeverTakenOverAndSigtermEndsTheWait) {
    REQUIRE_KVM();
    TempDir dir("minivmm-api");
    const fs::path sock = dir.path / "api.sock";
    BackgroundProcess first({MINIVMM_BINARY, "--api-socket", sock.string()});
    ASSERT_TRUE(wait_for_socket(sock, 5000));
    auto second = run_process({MINIVMM_BINARY, "--demo", "hello", "--api-socket", sock.string()});
    EXPECT_EQ(second.exit_code, 3) << second.err;
    EXPECT_NE(second.err.find("another process listens on it"), std::string::npos) << second.err;
    auto r = first.finish(SIGTERM, 10);
    EXPECT_EQ(r.exit_code, 143) << r.err;
    EXPECT_FALSE(fs::exists(sock));
    // A file that is not a socket is never replaced.
    { std::FILE* f = std::fopen(sock.c_str(), "w"); std::fclose(f); }
    auto third = run_process({MINIVMM_BINARY, "--api-socket", sock.string()});
    EXPECT_EQ(third.exit_code, 3) << third.err;
    EXPECT_TRUE(fs::exists(sock));
}

} // namespace
