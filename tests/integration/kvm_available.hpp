// Integration tests need a usable /dev/kvm; without it they skip with the reason printed.
#pragma once

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#define REQUIRE_KVM()                                                                              \
    do {                                                                                           \
        int kvm_fd_ = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);                                      \
        if (kvm_fd_ < 0)                                                                           \
            GTEST_SKIP() << "needs /dev/kvm: " << std::strerror(errno);                            \
        ::close(kvm_fd_);                                                                          \
    } while (0)
