#include "api/api_router.hpp"

#include <fmt/format.h>

namespace minivmm::api {

using nlohmann::json;

namespace {
constexpr const char* AFTER_START =
    "The requested operation is not supported after starting the microVM.";
constexpr const char* BEFORE_START =
    "The requested operation is not supported before starting the microVM.";

ApiResponse no_content() { return {204, {}}; }

// A client's strings (paths, ids) may be any bytes: invalid UTF-8 is replaced, never thrown.
std::string body_of(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

ApiResponse from(const MaybeError& error) {
    return error ? fault(error->status, error->message) : no_content();
}

// The id of /drives/{id} or /network-interfaces/{id}: one path segment, or empty.
std::string path_id(const std::string& path, std::string_view prefix) {
    if (path.rfind(prefix, 0) != 0) return {};
    std::string id = path.substr(prefix.size());
    return id.find('/') == std::string::npos ? id : std::string();
}
} // namespace

const char* state_name(InstanceState state) {
    switch (state) {
    case InstanceState::NotStarted: return "Not started";
    case InstanceState::Running: return "Running";
    case InstanceState::Paused: return "Paused";
    }
    return "?";
}

ApiResponse fault(int status, const std::string& message) {
    // dump() escapes what JSON needs; invalid UTF-8 (from a client's bytes) is replaced.
    return {status, body_of(json{{"fault_message", message}})};
}

ApiRouter::ApiRouter(VmResources resources, VmmControl& vmm, std::string instance_id)
    : resources_(std::move(resources)), vmm_(vmm), id_(std::move(instance_id)) {}

ApiResponse ApiRouter::handle(const HttpRequest& request) {
    const std::string& method = request.method;
    const std::string& path = request.path;
    if (method == "GET" && path == "/")
        return {200, body_of(json{{"id", id_},
                          {"state", state_name(vmm_.state())},
                          {"vmm_version", MINIVMM_VERSION},
                          {"app_name", "minivmm"}})};
    if (method == "GET" && path == "/vm/config") return {200, body_of(resources_.full_config())};
    if (method == "GET" && path == "/machine-config")
        return {200, body_of(resources_.machine_config_json())};
    if (method == "GET" && path == "/minivmm/translate") return get_translate(request.query);
    const bool known_put = path == "/actions" || path == "/boot-source" ||
                           path == "/machine-config" || !path_id(path, "/drives/").empty() ||
                           !path_id(path, "/network-interfaces/").empty() ||
                           path == "/snapshot/create" || path == "/snapshot/load";
    if ((method == "PUT" && known_put) || (method == "PATCH" && path == "/vm")) {
        json body;
        if (MaybeError e = parse_json_object(request.body, body)) return from(e);
        if (path == "/actions") return put_actions(body);
        if (path == "/vm") return patch_vm(body);
        if (path == "/snapshot/create") return put_snapshot_create(body);
        if (path == "/snapshot/load") return put_snapshot_load(body);
        return pre_boot(path, body);
    }
    return fault(400, fmt::format("Invalid request method and/or path: {} {}.", method, path));
}

ApiResponse ApiRouter::pre_boot(const std::string& path, const json& body) {
    if (vmm_.state() != InstanceState::NotStarted) return fault(400, AFTER_START);
    if (path == "/boot-source") return from(resources_.put_boot_source(body));
    if (path == "/machine-config") return from(resources_.put_machine_config(body));
    if (std::string id = path_id(path, "/drives/"); !id.empty())
        return from(resources_.put_drive(id, body));
    return from(resources_.put_network_interface(path_id(path, "/network-interfaces/"), body));
}

ApiResponse ApiRouter::put_actions(const json& body) {
    for (const auto& item : body.items())
        if (item.key() != "action_type")
            return fault(400, fmt::format("unknown field `{}`", item.key()));
    auto it = body.find("action_type");
    if (it == body.end()) return fault(400, "missing field `action_type`");
    if (!it->is_string()) return fault(400, "invalid type: field `action_type` must be a string");
    const std::string action = it->get<std::string>();
    const bool started = vmm_.state() != InstanceState::NotStarted;
    if (action == "InstanceStart") {
        if (started) return fault(400, AFTER_START);
        auto config = resources_.machine_config();
        if (!config) return fault(400, config.error().message());
        auto run = vmm_.start(*config);
        return run ? no_content() : fault(400, run.error().message());
    }
    if (action == "SendCtrlAltDel") {
        if (!started) return fault(400, BEFORE_START);
        Reply reply = vmm_.command(Command::ResetLine);
        return reply.ok ? no_content() : fault(400, reply.message);
    }
    if (action == "FlushMetrics") return fault(400, "FlushMetrics: minivmm has no metrics");
    return fault(400, fmt::format("unknown action_type `{}`: expected InstanceStart, "
                                  "SendCtrlAltDel or FlushMetrics", action));
}

ApiResponse ApiRouter::patch_vm(const json& body) {
    for (const auto& item : body.items())
        if (item.key() != "state") return fault(400, fmt::format("unknown field `{}`", item.key()));
    auto it = body.find("state");
    if (it == body.end()) return fault(400, "missing field `state`");
    if (!it->is_string() || (*it != "Paused" && *it != "Resumed"))
        return fault(400, "field `state`: expected Paused or Resumed");
    if (vmm_.state() == InstanceState::NotStarted) return fault(400, BEFORE_START);
    Reply reply = vmm_.command(*it == "Paused" ? Command::Pause : Command::Resume);
    return reply.ok ? no_content() : fault(400, reply.message);
}

} // namespace minivmm::api
