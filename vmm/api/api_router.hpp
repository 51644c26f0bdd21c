// The management API's routes: Firecracker's paths, methods, status codes and error body
// ({"fault_message": "..."}) for the subset minivmm implements (README, "Managing a VM"), and
// one extension of its own under /minivmm/ (translate_query.hpp). A
// request in, a response out; the VM behind it is a VmmControl, so the router runs (and is
// tested and fuzzed) without one. Called on the API thread, one request at a time.
#pragma once

#include <string>

#include "api/http_request.hpp"
#include "api/vm_resources.hpp"
#include "machine/control_channel.hpp"

namespace minivmm::api {

enum class InstanceState { NotStarted, Running, Paused };
// Firecracker's InstanceInfo.state: "Not started", "Running", "Paused".
const char* state_name(InstanceState state);

// What the router asks of the VM.
class VmmControl {
public:
    virtual ~VmmControl() = default;
    virtual InstanceState state() = 0;
    // Not started only: build the VM from `config` and run it. An error says why it did not
    // start; the instance is then still not started.
    virtual Result<void> start(const MachineConfig& config) = 0;
    // Started only: a command for the machine's main loop, and its reply.
    virtual Reply command(Command command) = 0;
};

struct ApiResponse {
    int status = 200;
    std::string body;   // JSON; empty for 204
};

class ApiRouter {
public:
    ApiRouter(VmResources resources, VmmControl& vmm, std::string instance_id);
    ApiResponse handle(const HttpRequest& request);

private:
    ApiResponse put_actions(const nlohmann::json& body);
    ApiResponse patch_vm(const nlohmann::json& body);
    ApiResponse pre_boot(const std::string& path, const nlohmann::json& body);
    // api_snapshot.cpp
    ApiResponse put_snapshot_create(const nlohmann::json& body);
    ApiResponse put_snapshot_load(const nlohmann::json& body);
    // api_translate.cpp: GET /minivmm/translate?gva=0x...&vcpu=N
    ApiResponse get_translate(const std::string& query);

    VmResources resources_;
    VmmControl& vmm_;
    std::string id_;
};

ApiResponse fault(int status, const std::string& message);   // {"fault_message": message}

} // namespace minivmm::api
