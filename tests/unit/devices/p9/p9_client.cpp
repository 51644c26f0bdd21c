// P9Client (see p9_client.hpp).
#include "p9_client.hpp"

namespace minivmm::p9::test {

int Reply::error() const {
    if (type != RLERROR) return 0;
    WireReader r = body();
    return static_cast<int>(r.u32());
}

WireReader Reply::body() const {
    WireReader r(bytes);
    (void)r.bytes(HEADER_SIZE);
    return r;
}

Reply P9Client::raw(const std::vector<uint8_t>& request, size_t capacity) {
    Reply reply;
    if (!server_.handle(request, reply.bytes, capacity)) return reply;
    WireReader h(reply.bytes);
    const uint32_t size = h.u32();
    reply.type = h.u8();
    reply.tag = h.u16();
    if (!h.ok() || size != reply.bytes.size() || reply.bytes.size() > capacity)
        throw std::logic_error("malformed reply header");
    return reply;
}

Reply P9Client::call(uint8_t type, const std::function<void(WireWriter&)>& fill, size_t capacity) {
    std::vector<uint8_t> msg;
    WireWriter w(msg, size_t{2} << 20);
    w.u32(0);
    w.u8(type);
    w.u16(tag_);
    fill(w);
    w.patch_u32(0, static_cast<uint32_t>(msg.size()));
    Reply r = raw(msg, capacity);
    if (r.tag != tag_) throw std::logic_error("reply tag mismatch");
    if (r.type != RLERROR && r.type != type + 1) throw std::logic_error("reply type mismatch");
    tag_ = static_cast<uint16_t>(tag_ % 0xfffe + 1);
    return r;
}

int P9Client::start() {
    if (int e = version(512 * 1024, VERSION_9P2000_L)) return e;
    return attach(0);
}

int P9Client::version(uint32_t msize, const std::string& version, uint32_t* got,
                      std::string* got_version) {
    Reply r = call(TVERSION, [&](WireWriter& w) {
        w.u32(msize);
        w.str(version);
    });
    if (int e = r.error()) return e;
    WireReader b = r.body();
    const uint32_t m = b.u32();
    const std::string v(b.str(64));
    if (got) *got = m;
    if (got_version) *got_version = v;
    return 0;
}

int P9Client::attach(uint32_t fid) {
    return call(TATTACH, [&](WireWriter& w) {
               w.u32(fid);
               w.u32(NOFID);
               w.str("root");
               w.str("");
               w.u32(0);
           }).error();
}

int P9Client::walk(uint32_t fid, uint32_t newfid, const std::vector<std::string>& names,
                   std::vector<Qid>* walked) {
    Reply r = call(TWALK, [&](WireWriter& w) {
        w.u32(fid);
        w.u32(newfid);
        w.u16(static_cast<uint16_t>(names.size()));
        for (const auto& n : names) w.str(n);
    });
    if (int e = r.error()) return e;
    WireReader b = r.body();
    const uint16_t n = b.u16();
    if (walked) walked->clear();
    for (uint16_t i = 0; i < n; ++i) {
        Qid q;
        q.type = b.u8();
        q.version = b.u32();
        q.path = b.u64();
        if (walked) walked->push_back(q);
    }
    return 0;
}

int P9Client::clunk(uint32_t fid) {
    return call(TCLUNK, [&](WireWriter& w) { w.u32(fid); }).error();
}

int P9Client::lopen(uint32_t fid, uint32_t flags) {
    return call(TLOPEN, [&](WireWriter& w) {
               w.u32(fid);
               w.u32(flags);
           }).error();
}

int P9Client::lcreate(uint32_t fid, const std::string& name, uint32_t flags, uint32_t mode) {
    return call(TLCREATE, [&](WireWriter& w) {
               w.u32(fid);
               w.str(name);
               w.u32(flags);
               w.u32(mode);
               w.u32(0);
           }).error();
}

int P9Client::read(uint32_t fid, uint64_t offset, uint32_t count, std::string& data) {
    Reply r = call(TREAD, [&](WireWriter& w) {
        w.u32(fid);
        w.u64(offset);
        w.u32(count);
    });
    if (int e = r.error()) return e;
    WireReader b = r.body();
    const uint32_t n = b.u32();
    auto bytes = b.bytes(n);
    if (!b.ok()) throw std::logic_error("Rread shorter than its count");
    data.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return 0;
}

int P9Client::read_all(uint32_t fid, std::string& data) {
    data.clear();
    for (;;) {
        std::string piece;
        if (int e = read(fid, data.size(), 65536, piece)) return e;
        if (piece.empty()) return 0;
        data += piece;
    }
}

int P9Client::write(uint32_t fid, uint64_t offset, const std::string& data, uint32_t* written) {
    Reply r = call(TWRITE, [&](WireWriter& w) {
        w.u32(fid);
        w.u64(offset);
        w.u32(static_cast<uint32_t>(data.size()));
        w.bytes({reinterpret_cast<const uint8_t*>(data.data()), data.size()});
    });
    if (int e = r.error()) return e;
    WireReader b = r.body();
    if (written) *written = b.u32();
    return 0;
}

int P9Client::readdir(uint32_t fid, std::vector<std::string>& names) {
    names.clear();
    uint64_t offset = 0;
    for (;;) {
        Reply r = call(TREADDIR, [&](WireWriter& w) {
            w.u32(fid);
            w.u64(offset);
            w.u32(4096);
        });
        if (int e = r.error()) return e;
        WireReader b = r.body();
        const uint32_t count = b.u32();
        if (count == 0) return 0;
        WireReader entries(b.bytes(count));
        while (entries.remaining() > 0) {
            (void)entries.bytes(QID_SIZE);
            offset = entries.u64();
            (void)entries.u8();
            names.emplace_back(entries.str(255));
            if (!entries.ok()) throw std::logic_error("malformed Rreaddir");
        }
    }
}

int P9Client::getattr(uint32_t fid, uint32_t* mode, uint64_t* size, Qid* qid) {
    Reply r = call(TGETATTR, [&](WireWriter& w) {
        w.u32(fid);
        w.u64(GETATTR_BASIC);
    });
    if (int e = r.error()) return e;
    WireReader b = r.body();
    (void)b.u64();
    Qid q;
    q.type = b.u8();
    q.version = b.u32();
    q.path = b.u64();
    const uint32_t m = b.u32();
    (void)b.u32();
    (void)b.u32();
    (void)b.u64();
    (void)b.u64();
    const uint64_t s = b.u64();
    if (mode) *mode = m;
    if (size) *size = s;
    if (qid) *qid = q;
    return 0;
}

int P9Client::setattr(uint32_t fid, uint32_t valid, uint32_t mode, uint64_t size) {
    return call(TSETATTR, [&](WireWriter& w) {
               w.u32(fid);
               w.u32(valid);
               w.u32(mode);
               w.u32(0);
               w.u32(0);
               w.u64(size);
               for (int i = 0; i < 4; ++i) w.u64(0);
           }).error();
}

int P9Client::mkdir(uint32_t dfid, const std::string& name, uint32_t mode) {
    return call(TMKDIR, [&](WireWriter& w) {
               w.u32(dfid);
               w.str(name);
               w.u32(mode);
               w.u32(0);
           }).error();
}

int P9Client::mknod(uint32_t dfid, const std::string& name, uint32_t mode) {
    return call(TMKNOD, [&](WireWriter& w) {
               w.u32(dfid);
               w.str(name);
               w.u32(mode);
               w.u32(1);
               w.u32(3);
               w.u32(0);
           }).error();
}

int P9Client::symlink(uint32_t dfid, const std::string& name, const std::string& target) {
    return call(TSYMLINK, [&](WireWriter& w) {
               w.u32(dfid);
               w.str(name);
               w.str(target);
               w.u32(0);
           }).error();
}

int P9Client::link(uint32_t dfid, uint32_t fid, const std::string& name) {
    return call(TLINK, [&](WireWriter& w) {
               w.u32(dfid);
               w.u32(fid);
               w.str(name);
           }).error();
}

int P9Client::rename(uint32_t fid, uint32_t dfid, const std::string& name) {
    return call(TRENAME, [&](WireWriter& w) {
               w.u32(fid);
               w.u32(dfid);
               w.str(name);
           }).error();
}

int P9Client::renameat(uint32_t olddir, const std::string& oldname, uint32_t newdir,
                       const std::string& newname) {
    return call(TRENAMEAT, [&](WireWriter& w) {
               w.u32(olddir);
               w.str(oldname);
               w.u32(newdir);
               w.str(newname);
           }).error();
}

int P9Client::unlinkat(uint32_t dfid, const std::string& name, uint32_t flags) {
    return call(TUNLINKAT, [&](WireWriter& w) {
               w.u32(dfid);
               w.str(name);
               w.u32(flags);
           }).error();
}

int P9Client::remove(uint32_t fid) {
    return call(TREMOVE, [&](WireWriter& w) { w.u32(fid); }).error();
}

int P9Client::readlink(uint32_t fid, std::string& target) {
    Reply r = call(TREADLINK, [&](WireWriter& w) { w.u32(fid); });
    if (int e = r.error()) return e;
    WireReader b = r.body();
    target = std::string(b.str(4096));
    return 0;
}

int P9Client::fsync(uint32_t fid) {
    return call(TFSYNC, [&](WireWriter& w) {
               w.u32(fid);
               w.u32(0);
           }).error();
}

int P9Client::statfs(uint32_t fid) {
    return call(TSTATFS, [&](WireWriter& w) { w.u32(fid); }).error();
}

} // namespace minivmm::p9::test
