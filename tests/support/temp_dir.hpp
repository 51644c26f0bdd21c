// TempDir: a fresh directory under /tmp for one test (mkdtemp), removed with all it holds.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace minivmm::test {

struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& prefix = "minivmm-test") {
        std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
        if (::mkdtemp(tmpl.data()) != nullptr) path = tmpl;
    }
    ~TempDir() {
        std::error_code ignored;
        if (!path.empty()) std::filesystem::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

} // namespace minivmm::test
