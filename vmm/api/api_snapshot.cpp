// The management API's snapshot routes: PUT /snapshot/create (a paused VM's state and memory
// files) and PUT /snapshot/load (a VM started from them), with Firecracker's field names; the
// fields minivmm does not implement are refused by name (Diff snapshots, Uffd, dirty pages,
// the vsock override, huge pages) unless they ask for what it does anyway.
#include <algorithm>

#include <fmt/format.h>

#include "api/api_router.hpp"

namespace minivmm::api {

using nlohmann::json;

namespace {
// The string field `name` of `body` into `out`; an error if it is there with another type,
// or missing when `required`.
MaybeError string_field(const json& body, const char* name, std::string& out, bool required) {
    auto it = body.find(name);
    if (it == body.end())
        return required ? MaybeError(ApiError{400, fmt::format("missing field `{}`", name)})
                        : std::nullopt;
    if (!it->is_string())
        return ApiError{400, fmt::format("invalid type: field `{}` must be a string", name)};
    out = it->get<std::string>();
    return std::nullopt;
}

MaybeError only_fields(const json& body, std::initializer_list<std::string_view> known) {
    for (const auto& item : body.items())
        if (std::find(known.begin(), known.end(), item.key()) == known.end())
            return ApiError{400, fmt::format("unknown field `{}`", item.key())};
    return std::nullopt;
}

// A boolean field that minivmm only has as false.
MaybeError false_only(const json& body, const char* name, const char* why) {
    auto it = body.find(name);
    if (it == body.end()) return std::nullopt;
    if (!it->is_boolean())
        return ApiError{400, fmt::format("invalid type: field `{}` must be a boolean", name)};
    if (it->get<bool>()) return ApiError{400, fmt::format("field `{}`: {}", name, why)};
    return std::nullopt;
}

ApiResponse from(const MaybeError& e) { return fault(e->status, e->message); }

// network_overrides: [{"iface_id", "host_dev_name"}...]. A snapshot keeps no interface ids:
// iface_id names the card by its position among the snapshot's, net0, net1, ... (as GET
// /vm/config names a command line's cards); host_dev_name is the tap it goes on.
MaybeError network_overrides(const json& body, std::vector<DeviceOverride>& out) {
    auto it = body.find("network_overrides");
    if (it == body.end()) return std::nullopt;
    if (!it->is_array())
        return ApiError{400, "invalid type: field `network_overrides` must be an array"};
    for (const json& o : *it) {
        if (!o.is_object())
            return ApiError{400, "invalid type: `network_overrides` items must be objects"};
        if (MaybeError e = only_fields(o, {"iface_id", "host_dev_name"})) return e;
        std::string id, tap;
        if (MaybeError e = string_field(o, "iface_id", id, true)) return e;
        if (MaybeError e = string_field(o, "host_dev_name", tap, true)) return e;
        const bool digits = id.size() > 3 && id.size() <= 5 && id.rfind("net", 0) == 0 &&
                            std::all_of(id.begin() + 3, id.end(),
                                        [](char c) { return c >= '0' && c <= '9'; });
        if (!digits)
            return ApiError{400, fmt::format("network_overrides: iface_id `{}`: a snapshot keeps "
                                             "no interface ids; name the card by its position "
                                             "in the snapshot, net0, net1, ...", id)};
        out.push_back({"net", std::stoul(id.substr(3)), "tap=" + tap});
    }
    return std::nullopt;
}
} // namespace

ApiResponse ApiRouter::put_snapshot_create(const json& body) {
    if (MaybeError e = only_fields(body, {"snapshot_type", "snapshot_path", "mem_file_path"}))
        return from(e);
    std::string type = "Full";
    SnapshotPaths paths;
    if (MaybeError e = string_field(body, "snapshot_type", type, false)) return from(e);
    if (MaybeError e = string_field(body, "snapshot_path", paths.state, true)) return from(e);
    if (MaybeError e = string_field(body, "mem_file_path", paths.memory, true)) return from(e);
    if (type == "Diff") return fault(400, "snapshot_type Diff: minivmm takes Full snapshots only");
    if (type != "Full") return fault(400, "field `snapshot_type`: expected Full or Diff");
    if (vmm_.state() == InstanceState::NotStarted)
        return fault(400, "The requested operation is not supported before starting the microVM.");
    Reply reply = vmm_.command(Command(paths));
    return reply.ok ? ApiResponse{204, {}} : fault(400, reply.message);
}

ApiResponse ApiRouter::put_snapshot_load(const json& body) {
    if (MaybeError e = only_fields(body, {"snapshot_path", "mem_file_path", "mem_backend",
                                          "resume_vm", "enable_diff_snapshots",
                                          "track_dirty_pages", "network_overrides",
                                          "vsock_override", "clock_realtime", "huge_pages"}))
        return from(e);
    RestoreConfig restore;
    if (MaybeError e = string_field(body, "snapshot_path", restore.state, true)) return from(e);
    const bool file = body.contains("mem_file_path"), backend = body.contains("mem_backend");
    if (file == backend)
        return fault(400, "exactly one of `mem_file_path` and `mem_backend` must be given");
    if (file) {
        if (MaybeError e = string_field(body, "mem_file_path", restore.memory, true)) return from(e);
    } else {
        const json& b = body["mem_backend"];
        if (!b.is_object()) return fault(400, "invalid type: field `mem_backend` must be an object");
        if (MaybeError e = only_fields(b, {"backend_type", "backend_path"})) return from(e);
        std::string type;
        if (MaybeError e = string_field(b, "backend_type", type, true)) return from(e);
        if (MaybeError e = string_field(b, "backend_path", restore.memory, true)) return from(e);
        if (type == "Uffd") return fault(400, "backend_type Uffd: minivmm maps a File only");
        if (type != "File") return fault(400, "field `backend_type`: expected File or Uffd");
    }
    if (auto it = body.find("resume_vm"); it != body.end()) {
        if (!it->is_boolean()) return fault(400, "invalid type: field `resume_vm` must be a boolean");
        restore.resume = it->get<bool>();
    }
    for (const char* name : {"enable_diff_snapshots", "track_dirty_pages"})
        if (MaybeError e = false_only(body, name, "minivmm does not track dirty pages")) return from(e);
    if (MaybeError e = false_only(body, "clock_realtime", "minivmm restores kvmclock as saved"))
        return from(e);
    if (body.contains("vsock_override"))
        return fault(400, "field `vsock_override`: minivmm has no vsock device");
    if (MaybeError e = network_overrides(body, restore.overrides)) return from(e);
    if (auto it = body.find("huge_pages"); it != body.end() && *it != "None")
        return fault(400, "field `huge_pages`: minivmm maps the memory file with None only");
    if (vmm_.state() != InstanceState::NotStarted)
        return fault(400, "Loading a microVM snapshot not allowed after configuring boot-specific "
                          "resources.");
    auto run = vmm_.start(resources_.restore_config(restore));
    return run ? ApiResponse{204, {}} : fault(400, run.error().message());
}

} // namespace minivmm::api
