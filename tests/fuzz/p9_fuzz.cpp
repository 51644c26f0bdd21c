// libFuzzer target for virtio-9p: the whole request path (descriptor chains, the device's
// message framing, the 9P2000.L decoding, the server's host calls) against a temporary tree, a
// writable share with a secret outside it and symlinks (absolute and relative) pointing out.
// Each input is a Tversion and a Tattach (fid 0 = the root), then up to 16 records:
//   type u8, tag u16, room u16 (writable bytes), flags u8, body_len u16, body
// flags bit 0: keep the size field the body gives (else the true length is written there);
// bits 1-2: how many pieces the readable part is split into.
// Oracles:
//  - guest memory changes only inside the writable buffers, and each used length is at most
//    the chain's writable bytes; a reply is a whole message (its size field is the used length,
//    its tag the request's, its type the request's + 1 or Rlerror);
//  - nothing outside the share changes: the secret keeps its bytes, nothing appears next to it
//    or next to the share.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

#include "base/log.hpp"
#include "fake_device_context.hpp"
#include "guest_driver.hpp"
#include "p9/p9_device.hpp"
#include "p9/p9_protocol.hpp"

using namespace minivmm;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t MEM_SIZE = 2u << 20;
constexpr size_t MAX_RECORDS = 16;
constexpr size_t MAX_BODY = 4096;

// The tree lives in /tmp/minivmm-p9-fuzz-PID for the process (libFuzzer ends without running
// static destructors); trees of processes that are gone are removed when the next one starts.
struct Tree {
    Tree() {
        const std::string prefix = "minivmm-p9-fuzz-";
        std::error_code ec;
        for (const auto& e : fs::directory_iterator("/tmp", ec)) {
            const std::string name = e.path().filename().string();
            if (name.rfind(prefix, 0) != 0) continue;
            const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
            if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
                fs::remove_all(e.path(), ec);
        }
        base = "/tmp/" + prefix + std::to_string(::getpid());
        fs::remove_all(base, ec);
        fs::create_directories(base + "/outside");
        std::ofstream(base + "/outside/secret") << "SECRET";
        reset();
    }
    ~Tree() {
        std::error_code ec;
        fs::remove_all(base, ec);
    }
    // The share as it starts: a file, a directory with a file, links out and in.
    void reset() {
        std::error_code ec;
        fs::remove_all(share(), ec);
        fs::create_directories(share() + "/dir/sub");
        std::ofstream(share() + "/file") << "hello";
        std::ofstream(share() + "/dir/inner") << "inner";
        fs::create_symlink(base + "/outside/secret", share() + "/abs");
        fs::create_symlink("../outside/secret", share() + "/rel");
        fs::create_symlink(base + "/outside", share() + "/absdir");
        fs::create_symlink("../outside", share() + "/reldir");
        fs::create_symlink("file", share() + "/inlink");
    }
    std::string share() const { return base + "/share"; }
    bool outside_untouched() const {
        size_t entries = 0;
        for (const auto& e : fs::directory_iterator(base)) {
            (void)e;
            ++entries;
        }
        size_t outside = 0;
        for (const auto& e : fs::directory_iterator(base + "/outside")) {
            (void)e;
            ++outside;
        }
        std::ifstream in(base + "/outside/secret");
        std::stringstream s;
        s << in.rdbuf();
        return entries == 2 && outside == 1 && s.str() == "SECRET";
    }
    std::string base;
};

std::vector<uint8_t> message(uint8_t type, const std::vector<uint8_t>& body) {
    std::vector<uint8_t> m = {0, 0, 0, 0, type, 0, 0};
    m.insert(m.end(), body.begin(), body.end());
    const uint32_t size = static_cast<uint32_t>(m.size());
    std::memcpy(m.data(), &size, 4);
    return m;
}

struct Input {
    const uint8_t* p;
    size_t left;
    bool take(size_t n) { return n <= left; }
    uint8_t u8() { return left ? (--left, *p++) : 0; }
    uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static Tree tree;
    static unsigned runs = 0;
    if (++runs % 256 == 0) tree.reset();
    set_log_level(LogLevel::Off);
    static auto mem_r = GuestMemory::create({{GuestAddress(0), MEM_SIZE}});
    const GuestMemory& mem = *mem_r;
    auto all = *mem.slice(GuestAddress(0), MEM_SIZE);
    std::fill(all.begin(), all.end(), uint8_t{0x5a});

    auto root = p9::ShareRoot::open(tree.share());
    if (!root) __builtin_trap();
    p9::P9Device device("fuzz", std::make_unique<p9::P9Server>(std::move(*root), p9::Access::ReadWrite));
    test::FakeDeviceContext ctx(mem, 1, 64);
    test::GuestDriver ring(mem, 64, GuestAddress(0x1000));
    ring.configure(ctx.queue(0), 0);
    if (!ctx.queue(0).activate(mem)) return 0;
    if (!device.activate(ctx, device.features())) __builtin_trap();

    struct Sent {
        std::vector<uint8_t> request;
        GuestAddress out;
        uint32_t room;
    };
    std::vector<Sent> sent;
    auto send = [&](std::vector<uint8_t> request, uint32_t room, unsigned pieces) {
        std::vector<test::DriverBuffer> bufs;
        const size_t piece = std::max<size_t>(1, request.size() / (pieces + 1));
        for (size_t at = 0; at < request.size();) {
            const uint32_t len = static_cast<uint32_t>(
                std::min(request.size() - at, bufs.size() < pieces ? piece : request.size()));
            GuestAddress a = ring.alloc(len);
            ring.fill(a, {request.data() + at, len});
            bufs.push_back({a, len, virtio::Direction::Readable});
            at += len;
        }
        GuestAddress out = ring.alloc(std::max<uint32_t>(room, 1));
        if (room > 0) bufs.push_back({out, room, virtio::Direction::Writable});
        if (bufs.empty() || bufs.size() > ring.free_descriptors()) return;
        ring.add_chain(bufs);
        sent.push_back({std::move(request), out, room});
    };
    // Tversion (msize 64 KiB) and Tattach of fid 0.
    send(message(p9::TVERSION, {0, 0, 1, 0, 8, 0, '9', 'P', '2', '0', '0', '0', '.', 'L'}), 64, 0);
    send(message(p9::TATTACH, {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}), 64, 0);
    Input in{data, size};
    for (size_t r = 0; r < MAX_RECORDS && in.left >= 8; ++r) {
        const uint8_t type = in.u8();
        const uint16_t tag = in.u16();
        const uint16_t room = in.u16();
        const uint8_t flags = in.u8();
        const size_t len = std::min<size_t>({in.u16(), in.left, MAX_BODY});
        std::vector<uint8_t> body(in.p, in.p + len);
        in.p += len;
        in.left -= len;
        std::vector<uint8_t> m = message(type, body);
        m[5] = static_cast<uint8_t>(tag);
        m[6] = static_cast<uint8_t>(tag >> 8);
        if ((flags & 1) && body.size() >= 4) std::memcpy(m.data(), body.data(), 4);
        send(std::move(m), room, (flags >> 1) & 3);
    }
    // What may change: the writable buffers only (compared range by range with memcmp: a
    // byte loop under the fuzzer's comparison tracing costs 100 ms an input).
    std::vector<std::pair<uint64_t, uint64_t>> writable;   // [start, end), in address order
    for (const Sent& s : sent) writable.push_back({s.out.value(), s.out.value() + s.room});
    std::sort(writable.begin(), writable.end());
    static std::vector<uint8_t> before;
    before.assign(all.begin(), all.end());
    ring.publish();
    for (int pass = 0; pass < 4 && ring.used_idx() != sent.size(); ++pass)
        device.process_queue(ctx, 0);
    if (ctx.queue(0).broken() || ring.used_idx() != sent.size()) __builtin_trap();
    for (size_t i = 0; i < sent.size(); ++i) {
        auto u = ring.pop_used();
        if (!u || u->id >= 64) __builtin_trap();
        const Sent& s = sent[i];   // served in order
        if (u->len > s.room) __builtin_trap();
        if (u->len == 0) continue;
        auto reply = ring.read(s.out, u->len);
        uint32_t rsize;
        std::memcpy(&rsize, reply.data(), 4);
        if (u->len < 7 || rsize != u->len) __builtin_trap();
        if (reply[5] != s.request[5] || reply[6] != s.request[6]) __builtin_trap();
        if (reply[4] != p9::RLERROR && reply[4] != static_cast<uint8_t>(s.request[4] + 1))
            __builtin_trap();
    }
    // The rings end at the used ring's last entry; the data buffers follow.
    const uint64_t data_start = ring.used_ring().value() + 6 + 8 * 64;
    uint64_t from = data_start;
    writable.push_back({MEM_SIZE, MEM_SIZE});
    for (const auto& [start, end] : writable) {
        if (start > from && std::memcmp(all.data() + from, before.data() + from, start - from) != 0)
            __builtin_trap();
        from = std::max(from, end);
    }
    if (!tree.outside_untouched()) __builtin_trap();
    return 0;
}
