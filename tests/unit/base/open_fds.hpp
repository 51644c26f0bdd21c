// open_fds(): the descriptors open in this process (/proc/self/fd), for close-on-exec and leak
// checks around an object's creation.
#pragma once

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <set>
#include <string>

namespace minivmm::test {

inline std::set<int> open_fds() {
    std::set<int> listed, fds;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
        listed.insert(std::atoi(e.path().filename().c_str()));
    // The directory listing's own descriptor is closed by now: keep only the open ones.
    for (int fd : listed)
        if (::fcntl(fd, F_GETFD) >= 0) fds.insert(fd);
    return fds;
}

} // namespace minivmm::test
