// Tests of minivmm's seccomp confinement need /dev/kvm and a build whose minivmm is confined by
// default: sanitizer builds run without filters (their runtimes make calls of their own, such as
// LSan's clone and ptrace at exit or ASan's pipe2, that are outside the allow-lists).
#pragma once

#include "kvm_available.hpp"
#include "sandbox/seccomp_filter.hpp"

#define REQUIRE_CONFINED_BUILD()                                                                   \
    do {                                                                                           \
        REQUIRE_KVM();                                                                             \
        if (!minivmm::sandbox::SECCOMP_BY_DEFAULT)                                                 \
            GTEST_SKIP() << "sanitizer build: minivmm runs without seccomp by default (the "       \
                            "runtimes' own calls are outside the allow-lists); the plain build "   \
                            "runs these";                                                          \
    } while (0)
