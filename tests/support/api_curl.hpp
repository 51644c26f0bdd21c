// A management-API client for tests: Debian's curl on the unix socket (installed by
// tools/install-deps; a test without it skips, saying so), and the check of a refusal's body.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "run_process.hpp"

namespace minivmm::test {

inline constexpr const char* CURL = "/usr/bin/curl";

#define REQUIRE_CURL()                                                                             \
    do {                                                                                           \
        if (::access(minivmm::test::CURL, X_OK) != 0)                                              \
            GTEST_SKIP() << "no " << minivmm::test::CURL                                           \
                         << " (tools/install-deps installs Debian's curl)";                        \
    } while (0)

struct Answer {
    int status = 0;
    std::string body;
};

// One request with curl; the status code is what curl prints last.
inline Answer curl(const std::filesystem::path& socket, const std::string& method,
                   const std::string& path, const std::string& body = "") {
    std::vector<std::string> argv = {CURL, "-s", "-S", "-o", "-", "-w", "\n%{http_code}",
                                     "--unix-socket", socket.string(), "-X", method,
                                     "http://localhost" + path};
    if (!body.empty()) argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", body});
    auto r = run_process(argv, 30);
    Answer a;
    const size_t nl = r.out.rfind('\n');
    if (nl == std::string::npos) return {0, r.out + r.err};
    a.body = r.out.substr(0, nl);
    a.status = std::atoi(r.out.c_str() + nl + 1);
    return a;
}

} // namespace minivmm::test

#define EXPECT_FAULT(answer, text)                                                                 \
    do {                                                                                           \
        const minivmm::test::Answer a_ = (answer);                                                 \
        EXPECT_EQ(a_.status, 400) << a_.body;                                                      \
        EXPECT_EQ(a_.body.rfind("{\"fault_message\":\"", 0), 0u) << a_.body;                       \
        EXPECT_NE(a_.body.find(text), std::string::npos) << a_.body;                               \
    } while (0)
