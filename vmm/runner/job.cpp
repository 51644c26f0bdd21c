// Job encoding and the runner's archive (see job.hpp).
#include "runner/job.hpp"

#include <fmt/format.h>

#include "runner/cpio.hpp"
#include "runner_init.hpp"

namespace minivmm::runner {

namespace {
constexpr size_t TAG_MAX = 31;

bool valid_tag(const std::string& tag) {
    if (tag.empty() || tag.size() > TAG_MAX) return false;
    for (char c : tag) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

void field(std::vector<uint8_t>& out, const std::string& text) {
    out.insert(out.end(), text.begin(), text.end());
    out.push_back(0);
}

// "/a/b" holds "/a/b" and "/a/b/c", not "/a/bc".
bool holds(const std::string& dir, const std::string& path) {
    if (dir == "/") return true;
    if (path.rfind(dir, 0) != 0) return false;
    return path.size() == dir.size() || path[dir.size()] == '/' || dir.back() == '/';
}
} // namespace

std::vector<std::string> default_environment() {
    return {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
            "TERM=dumb"};
}

std::string guest_directory(const std::string& host_cwd, const std::vector<JobShare>& shares) {
    for (const JobShare& s : shares)
        if (!host_cwd.empty() && host_cwd.front() == '/' && holds(s.dir, host_cwd)) return host_cwd;
    return "/";
}

Result<std::vector<uint8_t>> encode_job(const Job& job) {
    if (job.argv.empty() || job.argv.front().empty())
        return Error(ErrorCode::Usage, "the command after -- is missing");
    std::vector<uint8_t> out;
    field(out, JOB_MAGIC);
    if (!job.root_tag.empty()) {
        if (!valid_tag(job.root_tag))
            return Error(ErrorCode::Usage, fmt::format("root share tag '{}' is not valid", job.root_tag));
        field(out, "root=" + job.root_tag);
    }
    for (const std::string& a : job.argv) {
        if (has_nul(a)) return Error(ErrorCode::Usage, "a command argument holds a NUL byte");
        field(out, "arg=" + a);
    }
    for (const std::string& e : job.env) {
        const size_t eq = e.find('=');
        if (eq == 0 || eq == std::string::npos || has_nul(e))
            return Error(ErrorCode::Usage, fmt::format("bad environment entry '{}'", e));
        field(out, "env=" + e);
    }
    for (const JobShare& s : job.shares) {
        if (!valid_tag(s.tag))
            return Error(ErrorCode::Usage,
                         fmt::format("share tag '{}': 1 to {} of A-Z a-z 0-9 _ . -", s.tag, TAG_MAX));
        if (s.dir.empty() || s.dir.front() != '/' || has_nul(s.dir))
            return Error(ErrorCode::Usage, fmt::format("share directory '{}' is not absolute", s.dir));
        field(out, fmt::format("share={} {} {}", s.writable ? "rw" : "ro", s.tag, s.dir));
    }
    if (job.cwd.empty() || job.cwd.front() != '/' || has_nul(job.cwd))
        return Error(ErrorCode::Usage, fmt::format("directory '{}' is not absolute", job.cwd));
    field(out, "cwd=" + job.cwd);
    return out;
}

Result<std::vector<uint8_t>> job_archive(const Job& job) {
    auto encoded = encode_job(job);
    if (!encoded) return encoded.error();
    CpioWriter cpio;
    MINIVMM_TRY(cpio.add_directory("minivmm", 0700));
    MINIVMM_TRY(cpio.add_file(std::string_view(INIT_PATH + 1), 0700, runner_init_binary()));
    MINIVMM_TRY(cpio.add_file(std::string_view(JOB_PATH + 1), 0400, *encoded));
    return cpio.finish();
}

} // namespace minivmm::runner
