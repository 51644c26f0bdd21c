// The guest's RAM written to a snapshot's memory file: its regions one after the other from
// offset 0, zero pages left as holes. Which pages to look at comes from the kernel's page map
// when there is one: a page of an anonymous mapping that is neither present nor swapped out
// has never been touched (or was given back) and reads as zero, so it is skipped unread;
// every other page is compared with zero. (Reading an untouched page maps the zero page for it:
// one page fault per 4 KiB, most of the time a plain scan of a large, mostly empty guest takes.)
#pragma once

#include <cstdint>
#include <string>

#include "base/host_pagemap.hpp"
#include "base/result.hpp"
#include "memory/guest_memory.hpp"

namespace minivmm {

struct RamFileStats {
    uint64_t pages = 0;      // in the RAM
    uint64_t skipped = 0;    // never touched, per the page map: not read
    uint64_t written = 0;    // non-zero, written
};

// Writes `memory` to `fd` (empty, open for writing; sized here with ftruncate). `pagemap`: this
// process's page map, or null (or not open) to read every page. Memory mapped
// from a file (a restored guest) is always read whole: a page not present there is the file's.
// `path` names the file in errors.
Result<RamFileStats> write_ram_file(const GuestMemory& memory, int fd, const HostPagemap* pagemap,
                                    const std::string& path);

} // namespace minivmm
