// minivmm ctl SOCKET translate on a running guest: the paging-live demo maps GVA 0x7f12345679a0
// to GPA 0xabc9a0 with page tables of its own (guest-images/demos/paging_map.h) and keeps
// running; the walk asked from outside must find that mapping, level by level, KVM_TRANSLATE
// must agree, the bytes read back must be the demo's marker, and the guest must go on
// afterwards (its rounds continue; a paused VM stays paused). Needs /dev/kvm.
#include <regex>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "api_curl.hpp"
#include "kvm_available.hpp"
#include "marker_walk.hpp"
#include "pty_process.hpp"
#include "run_process.hpp"
#include "temp_dir.hpp"
#include "wait_for_socket.hpp"

namespace {

using namespace minivmm::test;

// The highest "round N," the demo has printed so far (0: none).
unsigned last_round(const std::string& output) {
    static const std::regex round("paging-live demo: round ([0-9]+),");
    unsigned last = 0;
    for (auto it = std::sregex_iterator(output.begin(), output.end(), round);
         it != std::sregex_iterator(); ++it)
        last = static_cast<unsigned>(std::stoul((*it)[1]));
    return last;
}

ProcessResult ctl(const std::string& sock, std::vector<std::string> args) {
    args.insert(args.begin(), {MINIVMM_BINARY, "ctl", sock});
    return run_process(args, 30);
}

TEST(LiveTranslate, TheDemosMappingWalkedFromOutsideWhileItRuns) {
    REQUIRE_KVM();
    TempDir dir("minivmm-translate");
    const std::string sock = (dir.path / "api.sock").string();
    PtyProcess vm({MINIVMM_BINARY, "--demo", "paging-live", "--timeout", "60", "--api-socket", sock});
    ASSERT_TRUE(vm.wait_for_output("paging-live demo: round 1,", 20000)) << vm.output();
    ASSERT_TRUE(wait_for_socket(sock, 5000));

    // The marker's GVA: the demo's mapping (marker_walk.hpp).
    auto t = ctl(sock, {"translate", "0x7f12345679a0"});
    ASSERT_EQ(t.exit_code, 0) << t.err << vm.output();
    const std::string& w = t.out;
    EXPECT_EQ(w.rfind("minivmm: explain GVA 0x7f12345679a0 (vcpu0)\n", 0), 0u) << w;
    expect_marker_walk(w);
    EXPECT_TRUE(vm.wait_for_output("minivmm: translate: GVA 0x7f12345679a0 on vcpu0 is GPA 0xabc9a0",
                                   5000)) << vm.output();

    // The same byte through long_mode.S's identity map: a 2 MiB page, as JSON through curl.
    if (::access(CURL, X_OK) == 0) {
        Answer a = curl(sock, "GET", "/minivmm/translate?gva=0xabc9a0&vcpu=0");
        EXPECT_EQ(a.status, 200) << a.body;
        for (const char* field : {"\"gpa\":\"0xabc9a0\"", "\"kvm_translate_gpa\":\"0xabc9a0\"",
                                  "\"page_size\":2097152", "\"slot\":0",
                                  "\"bytes\":\"68656c6c6f2066726f6d206120475641\""})
            EXPECT_NE(a.body.find(field), std::string::npos) << field << "\n" << a.body;
        EXPECT_FAULT(curl(sock, "GET", "/minivmm/translate?gva=0xabc9a0&vcpu=1"),
                     "vcpu 1 out of range: the VM has 1 vCPU");
        EXPECT_FAULT(curl(sock, "GET", "/minivmm/translate?gva=0x1ffffffffffffffff"),
                     "`gva` must be 1 to 16 hexadecimal digits");
    }
    EXPECT_EQ(ctl(sock, {"translate", "0xnothex"}).exit_code, 2);
    auto range = ctl(sock, {"translate", "0x1000", "--vcpu", "7"});
    EXPECT_EQ(range.exit_code, 1);
    EXPECT_NE(range.err.find("vcpu 7 out of range"), std::string::npos) << range.err;

    // The guest goes on as before: still running, its rounds continue, the marker intact.
    auto status = ctl(sock, {"status"});
    EXPECT_NE(status.out.find("\"state\": \"Running\""), std::string::npos) << status.out;
    const unsigned seen = last_round(vm.output());
    ASSERT_TRUE(vm.wait_for_output("paging-live demo: round " + std::to_string(seen + 2) + ",",
                                   20000)) << vm.output();

    // A paused VM is walked too, and stays paused.
    ASSERT_EQ(ctl(sock, {"pause"}).exit_code, 0);
    auto paused = ctl(sock, {"translate", "7f1234568000"});
    EXPECT_EQ(paused.exit_code, 0) << paused.err;
    EXPECT_NE(paused.out.find("walk stopped: PT[360] is not present: a page fault\n"),
              std::string::npos) << paused.out;
    EXPECT_NE(paused.out.find("KVM_TRANSLATE: no translation, as above\n"), std::string::npos);
    EXPECT_NE(ctl(sock, {"status"}).out.find("\"state\": \"Paused\""), std::string::npos);
    ASSERT_EQ(ctl(sock, {"resume"}).exit_code, 0);
    const unsigned resumed = last_round(vm.output());
    vm.read_for(100);
    EXPECT_TRUE(vm.wait_for_output("paging-live demo: round " + std::to_string(resumed + 2) + ",",
                                   20000)) << vm.output();

    EXPECT_EQ(ctl(sock, {"stop"}).exit_code, 0);
    EXPECT_EQ(vm.finish(20), 0) << vm.output();
}

} // namespace
