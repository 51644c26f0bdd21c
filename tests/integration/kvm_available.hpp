// Integration tests need a usable /dev/kvm; without it they skip with the reason printed.
#pragma once

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#define REQUIRE_KVM()                                                                              \
    do {                                                                                           \
        int kvm_fd_ = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);                                      \
        if (kvm_fd_ < 0)                                                                           \
            GTEST_SKIP() << "needs /dev/kvm: " << std::strerror(errno);                            \
        int kvm_api_ = ::ioctl(kvm_fd_, KVM_GET_API_VERSION, 0);                                   \
        ::close(kvm_fd_);                                                                          \
        if (kvm_api_ != KVM_API_VERSION)                                                           \
            GTEST_SKIP() << "needs /dev/kvm: it does not answer the KVM API";                      \
    } while (0)
