// ShareSpec: one host directory shared with the guest (--share DIR[,tag=T][,rw]). The machine
// configuration holds them in a plain vector (MachineConfig::shares), so other code than the
// command line (the command runner: the host's "/" read-only) adds shares the same way.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"

namespace minivmm::p9 {

struct ShareSpec {
    std::string dir;        // absolute path of an existing directory
    std::string tag;        // the guest's mount source: 1-31 bytes of [A-Za-z0-9_.-], unique
    bool writable = false;  // read-only unless rw
};

constexpr size_t MAX_TAG = 31;

// "DIR[,tag=T][,rw]" (options in any order; "ro" is accepted too). DIR must be a directory;
// it is made absolute (realpath) here. The default tag is "share<N>", N the number of shares
// before it. Usage errors name the option.
Result<ShareSpec> parse_share(std::string_view text, std::span<const ShareSpec> earlier);
// Checks a spec however it was made: the directory is absolute and is one, the tag is valid and
// not one of `earlier`'s.
Result<void> check_share(const ShareSpec& spec, std::span<const ShareSpec> earlier);
// parse_share, appended to `shares`.
Result<void> add_share(std::vector<ShareSpec>& shares, std::string_view text);

} // namespace minivmm::p9
