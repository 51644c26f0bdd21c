// The layout KVM reads and writes for its list ioctls (struct kvm_cpuid2, struct kvm_msrs): a
// 32-bit count, 32 bits of padding, the entries from byte 8, as the C headers define them.
//
// Why not the structs themselves: the uapi headers declare the array with
// __DECLARE_FLEX_ARRAY, which in C++ puts an empty struct (size 1) before it, so g++ places
// kvm_cpuid2::entries at byte 12 and kvm_msrs::entries at byte 16 (and sizeof, which the
// ioctl numbers encode, at 12 and 16). Code using the members hands KVM every entry 4 or 8
// bytes off: a garbled CPUID and MSRs that KVM refuses as index 0. Never use those members.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <linux/kvm.h>
#include <span>
#include <vector>

namespace minivmm {

// The same cause gives KVM_GET_XSAVE and KVM_SET_XSAVE the wrong numbers in C++ (C's
// sizeof(struct kvm_xsave) is 4096, g++'s 4100): these are C's. The vCPU code (snapshots) and
// the seccomp rules that let the main thread take a snapshot both use them.
inline constexpr size_t KVM_XSAVE_SIZE = 4096;
inline constexpr unsigned long KVM_GET_XSAVE_C = _IOC(_IOC_READ, KVMIO, 0xa4, KVM_XSAVE_SIZE);
inline constexpr unsigned long KVM_SET_XSAVE_C = _IOC(_IOC_WRITE, KVMIO, 0xa5, KVM_XSAVE_SIZE);

template <typename Entry>
class KvmList {
public:
    static constexpr size_t HEADER_SIZE = 8;   // C's offsetof(struct kvm_msrs, entries)
    static_assert(alignof(Entry) <= 8);

    // Room for `capacity` entries; the count field starts at `count`.
    KvmList(size_t capacity, uint32_t count)
        : storage_((HEADER_SIZE + capacity * sizeof(Entry) + 7) / 8), capacity_(capacity) {
        set_count(count);
    }
    explicit KvmList(std::span<const Entry> entries)
        : KvmList(entries.size(), static_cast<uint32_t>(entries.size())) {
        if (!entries.empty())
            std::memcpy(bytes() + HEADER_SIZE, entries.data(), entries.size_bytes());
    }

    void* data() { return storage_.data(); }
    uint32_t count() const {
        uint32_t n;
        std::memcpy(&n, storage_.data(), sizeof n);
        return n;
    }
    void set_count(uint32_t n) { std::memcpy(storage_.data(), &n, sizeof n); }
    // The first min(count, capacity) entries, copied out.
    std::vector<Entry> entries() const {
        size_t n = count() < capacity_ ? count() : capacity_;
        std::vector<Entry> out(n);
        if (n != 0)
            std::memcpy(out.data(), reinterpret_cast<const uint8_t*>(storage_.data()) + HEADER_SIZE,
                        n * sizeof(Entry));
        return out;
    }

private:
    uint8_t* bytes() { return reinterpret_cast<uint8_t*>(storage_.data()); }
    std::vector<uint64_t> storage_;
    size_t capacity_;
};

} // namespace minivmm
