// P9Client: a test helper that plays Linux's 9p client against a P9Server: builds request
// messages, serves them, decodes the replies. Each call returns 0 or the Rlerror errno.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "p9/p9_protocol.hpp"
#include "p9/p9_server.hpp"

namespace minivmm::p9::test {

struct Reply {
    uint8_t type = 0;
    uint16_t tag = 0;
    std::vector<uint8_t> bytes;   // the whole reply message
    int error() const;            // the Rlerror code, or 0
    WireReader body() const;      // after the header
};

class P9Client {
public:
    explicit P9Client(P9Server& server) : server_(server) {}

    // One request of `type` whose body `fill` writes; the reply (Rlerror or T+1).
    Reply call(uint8_t type, const std::function<void(WireWriter&)>& fill,
               size_t capacity = P9Server::MAX_MSIZE);
    // The raw bytes as the request; an empty reply when the server gave none.
    Reply raw(const std::vector<uint8_t>& request, size_t capacity = P9Server::MAX_MSIZE);

    // Tversion (msize 512 KiB, "9P2000.L") and Tattach of fid 0 to the root.
    int start();
    int version(uint32_t msize, const std::string& version, uint32_t* got = nullptr,
                std::string* got_version = nullptr);
    int attach(uint32_t fid);
    // Twalk: `walked` gets the qids (fewer than names on a partial walk).
    int walk(uint32_t fid, uint32_t newfid, const std::vector<std::string>& names,
             std::vector<Qid>* walked = nullptr);
    int clunk(uint32_t fid);
    int lopen(uint32_t fid, uint32_t flags);
    int lcreate(uint32_t fid, const std::string& name, uint32_t flags, uint32_t mode);
    int read(uint32_t fid, uint64_t offset, uint32_t count, std::string& data);
    // Reads the whole open fid.
    int read_all(uint32_t fid, std::string& data);
    int write(uint32_t fid, uint64_t offset, const std::string& data, uint32_t* written = nullptr);
    int readdir(uint32_t fid, std::vector<std::string>& names);
    int getattr(uint32_t fid, uint32_t* mode = nullptr, uint64_t* size = nullptr, Qid* qid = nullptr);
    int setattr(uint32_t fid, uint32_t valid, uint32_t mode, uint64_t size);
    int mkdir(uint32_t dfid, const std::string& name, uint32_t mode);
    int mknod(uint32_t dfid, const std::string& name, uint32_t mode);
    int symlink(uint32_t dfid, const std::string& name, const std::string& target);
    int link(uint32_t dfid, uint32_t fid, const std::string& name);
    int rename(uint32_t fid, uint32_t dfid, const std::string& name);
    int renameat(uint32_t olddir, const std::string& oldname, uint32_t newdir,
                 const std::string& newname);
    int unlinkat(uint32_t dfid, const std::string& name, uint32_t flags);
    int remove(uint32_t fid);
    int readlink(uint32_t fid, std::string& target);
    int fsync(uint32_t fid);
    int statfs(uint32_t fid);

private:
    P9Server& server_;
    uint16_t tag_ = 1;
};

} // namespace minivmm::p9::test
