// virtio-blk, the device alone (no KVM): a BlockDevice behind its MmioTransport on real guest
// memory, driven by the test GuestDriver with several requests in flight, against raw
// pread/pwrite of the same sizes on the same file (the physical limit). Runs
// alternate (raw, device, raw, ...); prints medians, min-max spreads and the ratio as Markdown.
// Only the device's calls are timed (transport notify, which runs process_queue), not the test
// driver's ring work (a guest's driver runs on its own vCPU), as in net_bench; both sides in
// CPU time of the process (user + system, kernel worker threads of ours included), since on a
// shared machine wall-clock time mostly measures the wait for a CPU.
//
//   blk_device [FILE] [--runs N] [--file-mib M]    (default /var/tmp/minivmm-blk-bench.img)
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>

#include "block/block_device.hpp"
#include "block/file_backend.hpp"
#include "counting_irq_line.hpp"
#include "guest_driver.hpp"
#include "mmio_driver.hpp"
#include "virtio/mmio_transport.hpp"

using namespace minivmm;

namespace {

struct Workload {
    const char* name;
    uint32_t block;       // bytes per request
    bool random;          // random offsets, else sequential
    bool write;
    uint64_t total;       // bytes per run
};

constexpr uint16_t DEPTH = 32;   // requests in flight per batch (one notify per batch)

// Offsets of one run: random block-aligned ones (fixed seed, same for both sides) or sequential.
std::vector<uint64_t> offsets(const Workload& w, uint64_t file_size, unsigned run) {
    std::vector<uint64_t> v(w.total / w.block);
    std::mt19937_64 rng(run * 7919 + w.block);
    const uint64_t blocks = file_size / w.block;
    for (size_t i = 0; i < v.size(); ++i)
        v[i] = (w.random ? rng() % blocks : i % blocks) * w.block;
    return v;
}

double cpu_seconds() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

// The raw side cycles through DEPTH buffers, as the device side does through its DEPTH guest
// buffers, so both touch the same amount of memory, and of the same kind: the raw buffers lie
// in a GuestMemory too (anonymous memory that transparent huge pages can back; 1 MiB copies
// into 4 KiB pages run about a third slower).
double run_raw(int fd, const Workload& w, const std::vector<uint64_t>& offs,
               const std::vector<uint8_t*>& bufs) {
    const double t0 = cpu_seconds();
    for (size_t i = 0; i < offs.size(); ++i) {
        uint8_t* buf = bufs[i % DEPTH];
        const auto off = static_cast<off_t>(offs[i]);
        ssize_t n = w.write ? ::pwrite(fd, buf, w.block, off) : ::pread(fd, buf, w.block, off);
        if (n != static_cast<ssize_t>(w.block)) {
            std::perror("raw I/O");
            std::exit(1);
        }
    }
    return cpu_seconds() - t0;
}

class DeviceSide {
public:
    DeviceSide(const std::string& path, uint64_t mem_size)
        : mem_(*GuestMemory::create({{GuestAddress(0), mem_size}})) {
        auto backend = block::FileBackend::open(path, block::Access::ReadWrite);
        if (!backend) {
            std::fprintf(stderr, "bench: %s\n", backend.error().message().c_str());
            std::exit(1);
        }
        // No polling: the driver runs on this same thread, so nothing can arrive while the
        // device polled (blk_guest measures the polling, with a guest on its own vCPU).
        block::BlockTuning tuning;
        tuning.poll = std::chrono::nanoseconds(0);
        auto device = std::make_shared<block::BlockDevice>(std::move(*backend), "bench", tuning);
        transport_ = std::make_unique<virtio::MmioTransport>(device, mem_,
                                                              std::make_unique<CountingIrqLine>());
        ring_ = std::make_unique<test::GuestDriver>(mem_, block::BlockDevice::QUEUE_SIZE);
        test::MmioDriver drv(*transport_);
        const test::GuestDriver* rings[] = {ring_.get()};
        drv.init(drv.device_features() & ~(1ULL << VIRTIO_BLK_F_RO), rings);
        // Data buffers first, each on a page boundary as a guest's block layer gives them
        // (the first allocation starts a page; 1 MiB lengths keep the alignment), then the
        // headers and status bytes.
        for (uint16_t i = 0; i < DEPTH; ++i) data_.push_back(ring_->alloc(1 << 20));
        for (uint16_t i = 0; i < DEPTH; ++i) {
            headers_.push_back(ring_->alloc(16));
            status_.push_back(ring_->alloc(1));
        }
    }

    double run(const Workload& w, const std::vector<uint64_t>& offs) {
        double device = 0;
        for (size_t done = 0; done < offs.size();) {
            const size_t batch = std::min<size_t>(DEPTH, offs.size() - done);
            for (size_t i = 0; i < batch; ++i) {
                virtio_blk_outhdr hdr{w.write ? uint32_t{VIRTIO_BLK_T_OUT} : uint32_t{VIRTIO_BLK_T_IN}, 0,
                                      offs[done + i] / 512};
                ring_->fill(headers_[i], {reinterpret_cast<uint8_t*>(&hdr), sizeof hdr});
                auto dir = w.write ? virtio::Direction::Readable : virtio::Direction::Writable;
                ring_->add_chain({{headers_[i], 16, virtio::Direction::Readable},
                                  {data_[i], w.block, dir},
                                  {status_[i], 1, virtio::Direction::Writable}});
            }
            ring_->publish();
            const double t0 = cpu_seconds();
            while (transport_->notify(0)) {   // the device yields after its byte budget
            }
            device += cpu_seconds() - t0;
            for (size_t i = 0; i < batch; ++i) {
                auto used = ring_->pop_used();
                if (!used || ring_->read(status_[i], 1)[0] != VIRTIO_BLK_S_OK) {
                    std::fprintf(stderr, "bench: request failed\n");
                    std::exit(1);
                }
            }
            done += batch;
        }
        return device;
    }

private:
    GuestMemory mem_;
    std::unique_ptr<virtio::MmioTransport> transport_;
    std::unique_ptr<test::GuestDriver> ring_;
    std::vector<GuestAddress> headers_, data_, status_;
};

struct Stats {
    double median, min, max;
};

Stats stats(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return {v[v.size() / 2], v.front(), v.back()};
}

} // namespace

int main(int argc, char** argv) {
    std::string path = "/var/tmp/minivmm-blk-bench.img";
    unsigned runs = 11;
    uint64_t file_mib = 512;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--runs" && i + 1 < argc) runs = static_cast<unsigned>(std::stoul(argv[++i]));
        else if (a == "--file-mib" && i + 1 < argc) file_mib = std::stoull(argv[++i]);
        else path = a;
    }
    const uint64_t file_size = file_mib << 20;
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(file_size)) != 0) {
        std::perror(path.c_str());
        return 1;
    }
    std::vector<uint8_t> buf(1 << 20, 0xa5);
    for (uint64_t off = 0; off < file_size; off += buf.size())   // allocate and cache it all
        if (::pwrite(fd, buf.data(), buf.size(), static_cast<off_t>(off)) < 0) return 1;
    DeviceSide device(path, 64ULL << 20);
    GuestMemory raw_mem = *GuestMemory::create({{GuestAddress(0), uint64_t{DEPTH} << 20}});
    std::vector<uint8_t*> bufs;
    for (uint64_t i = 0; i < DEPTH; ++i) {
        auto span = *raw_mem.slice(GuestAddress(i << 20), 1 << 20);
        std::fill(span.begin(), span.end(), uint8_t{0x5a});
        bufs.push_back(span.data());
    }

    const Workload workloads[] = {
        {"4 KiB random read", 4096, true, false, 64ULL << 20},
        {"4 KiB random write", 4096, true, true, 64ULL << 20},
        {"1 MiB sequential read", 1 << 20, false, false, 512ULL << 20},
        {"1 MiB sequential write", 1 << 20, false, true, 512ULL << 20},
    };
    std::printf("| workload | raw pread/pwrite MB/s | device MB/s | device / raw |\n");
    std::printf("|---|---|---|---|\n");
    for (const Workload& w : workloads) {
        std::vector<double> raw, dev;
        for (unsigned r = 0; r <= runs; ++r) {   // run 0 is the warm-up
            auto offs = offsets(w, file_size, r);
            double a = run_raw(fd, w, offs, bufs);
            double b = device.run(w, offs);
            if (r == 0) continue;
            raw.push_back(static_cast<double>(w.total) / a / 1e6);
            dev.push_back(static_cast<double>(w.total) / b / 1e6);
        }
        Stats s = stats(raw), d = stats(dev);
        std::printf("| %s | %.0f [%.0f-%.0f] | %.0f [%.0f-%.0f] | %.2f |\n", w.name, s.median,
                    s.min, s.max, d.median, d.min, d.max, d.median / s.median);
        std::fflush(stdout);
    }
    ::close(fd);
    return 0;
}
