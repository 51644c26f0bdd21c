// wait_for_socket: waits until a unix socket file exists at `path` (a minivmm's --api-socket
// is listening), polling every 20 ms; false after `timeout_ms`.
#pragma once

#include <chrono>
#include <filesystem>
#include <sys/stat.h>
#include <thread>

namespace minivmm::test {

inline bool wait_for_socket(const std::filesystem::path& path, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        struct stat st{};
        if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

} // namespace minivmm::test
