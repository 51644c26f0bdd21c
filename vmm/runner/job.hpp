// The command runner's job: what the guest's init (guest-images/runner-init/init.c) runs and
// how, encoded for the file /minivmm/job of the initramfs minivmm appends.
//
// Format (version 1): a sequence of NUL-terminated fields, the first "minivmm-job 1", then
// "KEY=VALUE" fields in this order: "root=TAG" (optional: the guest's root is the 9p share TAG,
// read-only, under a tmpfs overlay), "arg=" (CMD and each argument, at least one), "env=NAME=VALUE"
// (the whole environment CMD gets), "share=ro|rw TAG DIR" (mount the 9p share TAG at the
// absolute DIR; TAG has no space), "cwd=DIR" (the guest directory CMD starts in). The init
// treats the file as its only input and refuses anything else; minivmm never reads it back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.hpp"

namespace minivmm::runner {

constexpr const char* JOB_MAGIC = "minivmm-job 1";
constexpr const char* INIT_PATH = "/minivmm/init";   // rdinit= points here
constexpr const char* JOB_PATH = "/minivmm/job";
// The tag of the host's root, shared read-only when -- CMD has no --initrd: the guest's root.
constexpr const char* ROOT_TAG = "minivmm-root";

struct JobShare {
    std::string tag;   // the virtio-9p mount tag: [A-Za-z0-9_.-], 1 to 31 bytes
    std::string dir;   // absolute: where the guest mounts it (the host's path)
    bool writable = false;
};

struct Job {
    std::string root_tag;            // non-empty: the root share (see the format above)
    std::vector<std::string> argv;   // CMD and its arguments
    std::vector<std::string> env;    // NAME=VALUE
    std::vector<JobShare> shares;
    std::string cwd = "/";
};

// The environment CMD gets: PATH, HOME and TERM=dumb (nothing of the host's is passed on).
std::vector<std::string> default_environment();

// Where CMD starts: HOST_CWD when a share holds it (the guest mounts shares at their host
// paths), else "/".
std::string guest_directory(const std::string& host_cwd, const std::vector<JobShare>& shares);

// The job file. ErrorCode::Usage for an empty argv, a string with a NUL, a bad tag, a relative
// or empty directory, an environment entry without NAME=.
Result<std::vector<uint8_t>> encode_job(const Job& job);

// The archive minivmm appends to the guest's initramfs: the directory minivmm (0700), the init
// (0700) and the job file (0400, read by root only).
Result<std::vector<uint8_t>> job_archive(const Job& job);

} // namespace minivmm::runner
