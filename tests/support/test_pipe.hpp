// TestPipe: a pipe for tests of what is written to a descriptor; drain() reads what is there
// without waiting.
#pragma once

#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <utility>

#include <gtest/gtest.h>

namespace minivmm::test {

struct TestPipe {
    TestPipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
    ~TestPipe() {
        for (int& fd : fds)
            if (fd >= 0) ::close(std::exchange(fd, -1));
    }
    std::string drain() {
        std::string s;
        ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fds[0], buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
        return s;
    }
    int fds[2] = {-1, -1};   // read end, write end
};

} // namespace minivmm::test
