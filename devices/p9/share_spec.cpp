// ShareSpec parsing and checks (see share_spec.hpp).
#include "p9/share_spec.hpp"

#include <climits>
#include <cstdlib>
#include <sys/stat.h>

#include <fmt/format.h>

namespace minivmm::p9 {

namespace {

bool valid_tag(std::string_view tag) {
    if (tag.empty() || tag.size() > MAX_TAG) return false;
    for (char c : tag) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '_' || c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

} // namespace

Result<void> check_share(const ShareSpec& spec, std::span<const ShareSpec> earlier) {
    if (spec.dir.empty() || spec.dir[0] != '/')
        return Error(ErrorCode::Usage,
                     fmt::format("--share: '{}' is not an absolute path", spec.dir));
    struct stat st {};
    if (::stat(spec.dir.c_str(), &st) != 0)
        return sys_error(ErrorCode::Input, fmt::format("--share: cannot use {}", spec.dir));
    if (!S_ISDIR(st.st_mode))
        return Error(ErrorCode::Input, fmt::format("--share: {} is not a directory", spec.dir));
    if (!valid_tag(spec.tag))
        return Error(ErrorCode::Usage,
                     fmt::format("--share: tag '{}' must be 1-{} bytes of A-Z a-z 0-9 _ . -",
                                 spec.tag, MAX_TAG));
    for (const ShareSpec& e : earlier)
        if (e.tag == spec.tag)
            return Error(ErrorCode::Usage,
                         fmt::format("--share: tag '{}' is used twice ({} and {})", spec.tag,
                                     e.dir, spec.dir));
    return {};
}

Result<ShareSpec> parse_share(std::string_view text, std::span<const ShareSpec> earlier) {
    ShareSpec spec;
    std::string_view rest = text;
    const size_t comma = rest.find(',');
    const std::string dir(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (dir.empty())
        return Error(ErrorCode::Usage,
                     fmt::format("--share '{}': expected DIR[,tag=TAG][,rw]", text));
    bool tagged = false;
    while (!rest.empty() || comma != std::string_view::npos) {
        const size_t next = rest.find(',');
        const std::string_view opt = rest.substr(0, next);
        if (opt == "rw") {
            spec.writable = true;
        } else if (opt == "ro") {
            spec.writable = false;
        } else if (opt.rfind("tag=", 0) == 0 && !tagged) {
            spec.tag = std::string(opt.substr(4));
            tagged = true;
        } else {
            return Error(ErrorCode::Usage,
                         fmt::format("--share '{}': unknown option '{}' (expected tag=TAG, rw "
                                     "or ro, once each)",
                                     text, opt));
        }
        if (next == std::string_view::npos) break;
        rest = rest.substr(next + 1);
    }
    char real[PATH_MAX];
    if (::realpath(dir.c_str(), real) == nullptr)
        return sys_error(ErrorCode::Input, fmt::format("--share: cannot use {}", dir));
    spec.dir = real;
    if (!tagged) spec.tag = fmt::format("share{}", earlier.size());
    MINIVMM_TRY(check_share(spec, earlier));
    return spec;
}

Result<void> add_share(std::vector<ShareSpec>& shares, std::string_view text) {
    auto spec = parse_share(text, shares);
    if (!spec) return spec.error();
    shares.push_back(std::move(*spec));
    return {};
}

} // namespace minivmm::p9
