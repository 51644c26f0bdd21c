// The steps the snapshot tests share: minivmm ctl, pause and snapshot into a directory, a
// restored VM checked paused and resumed, and the command line that restores one.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "linux_images.hpp"
#include "run_process.hpp"
#include "wait_for_socket.hpp"

namespace minivmm::test {

inline bool wait_for_file_text(const std::filesystem::path& p, const std::string& text,
                               int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        if (file_bytes(p).find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

inline ProcessResult ctl(const std::filesystem::path& socket, std::vector<std::string> args) {
    std::vector<std::string> argv = {MINIVMM_BINARY, "ctl", socket.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, 30);
}

// Pauses the VM behind `socket` and snapshots it into the directory `dir` (dir/vm.state,
// dir/vm.mem; ctl makes dir if it does not exist).
inline void pause_and_snapshot(const std::filesystem::path& socket, const std::filesystem::path& dir) {
    auto paused = ctl(socket, {"pause"});
    ASSERT_EQ(paused.exit_code, 0) << paused.out << paused.err;
    auto snap = ctl(socket, {"snapshot", dir.string()});
    ASSERT_EQ(snap.exit_code, 0) << snap.out << snap.err;
}

// The restored VM: paused (status says so, the guest prints nothing), then resumed.
inline void check_paused_then_resume(const std::filesystem::path& socket,
                                     const std::filesystem::path& serial) {
    ASSERT_TRUE(wait_for_socket(socket, 10000));
    auto status = ctl(socket, {"status"});
    EXPECT_NE(status.out.find("\"Paused\""), std::string::npos) << status.out << status.err;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(file_bytes(serial), "") << "the restored guest ran before the resume";
    auto resumed = ctl(socket, {"resume"});
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
}

// minivmm started paused from dir/vm.state and dir/vm.mem, its API on `socket`, its serial to
// `serial`.
inline std::vector<std::string> restore_argv(const std::filesystem::path& dir,
                                             const std::filesystem::path& socket,
                                             const std::filesystem::path& serial) {
    return {MINIVMM_BINARY, "--restore", dir.string(),
            "--timeout", "120", "--api-socket", socket.string(), "--serial",
            "file:" + serial.string()};
}

} // namespace minivmm::test
