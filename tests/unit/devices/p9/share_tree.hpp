// ShareTree: a temporary directory with a share inside it and a file outside it that no request
// may reach, plus symlinks (absolute and relative) from the share to the outside. Removed at
// the end of the test.
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "p9/p9_server.hpp"
#include "p9_client.hpp"

namespace minivmm::p9::test {

// Linux's P9_DOTL open flags (the x86-64 values).
constexpr uint32_t RDONLY = 0, WRONLY = 1, RDWR = 2, CREATE = 0100, TRUNC = 01000;

struct ShareTree {
    ShareTree() {
        char tmpl[] = "/tmp/minivmm-p9-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
        base = tmpl;
        namespace fs = std::filesystem;
        fs::create_directories(share() + "/dir/sub");
        fs::create_directories(outside());
        put(outside() + "/secret", "SECRET");
        put(share() + "/file", "hello, share\n");
        put(share() + "/dir/inner", "inner");
        fs::create_symlink(outside() + "/secret", share() + "/abs");
        fs::create_symlink("../outside/secret", share() + "/rel");
        fs::create_symlink(outside(), share() + "/absdir");
        fs::create_symlink("../outside", share() + "/reldir");
        fs::create_symlink("file", share() + "/inlink");
    }
    ~ShareTree() {
        std::error_code ec;
        std::filesystem::remove_all(base, ec);
    }
    ShareTree(const ShareTree&) = delete;
    ShareTree& operator=(const ShareTree&) = delete;

    std::string share() const { return base + "/share"; }
    std::string outside() const { return base + "/outside"; }

    std::unique_ptr<P9Server> server(Access access) const {
        auto root = ShareRoot::open(share());
        if (!root) throw std::runtime_error(root.error().message());
        return std::make_unique<P9Server>(std::move(*root), access);
    }

    static void put(const std::string& path, const std::string& text) {
        std::ofstream(path, std::ios::binary) << text;
    }
    static std::string get(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }
    static bool exists(const std::string& path) {
        std::error_code ec;
        return std::filesystem::symlink_status(path, ec).type() !=
               std::filesystem::file_type::not_found;
    }
    // What the outside holds: only the secret, unchanged.
    bool outside_untouched() const {
        size_t n = 0;
        for (const auto& e : std::filesystem::directory_iterator(outside())) {
            (void)e;
            ++n;
        }
        return n == 1 && get(outside() + "/secret") == "SECRET";
    }

    std::string base;
};

// A tree, a server over its share and a client that has attached fid 0 to the root.
struct Session {
    explicit Session(Access access) : server(tree.server(access)), client(*server) {
        if (client.start() != 0) throw std::runtime_error("Tversion/Tattach failed");
    }
    ShareTree tree;
    std::unique_ptr<P9Server> server;
    P9Client client;
};

} // namespace minivmm::p9::test
