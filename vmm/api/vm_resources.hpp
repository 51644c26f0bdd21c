// The VM's configuration as the management API sees it: Firecracker's pre-boot resources (the
// boot source, drives, network interfaces, the machine configuration), each request body
// checked field by field against Firecracker's API (its names, types and ranges), and the
// MachineConfig minivmm builds the VM from. A field Firecracker has and minivmm does not
// implement is refused with its name unless it asks for what minivmm does anyway; an unknown
// field is refused (Firecracker refuses unknown fields too). Pure: no I/O, no VM.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "machine/config.hpp"

namespace minivmm::api {

// A refused request: the status (400 unless said otherwise) and the fault_message.
struct ApiError {
    int status = 400;
    std::string message;
};
using MaybeError = std::optional<ApiError>;

struct DriveSpec {
    std::string drive_id;
    std::string path_on_host;
    bool is_root_device = false;
    bool is_read_only = false;
};

struct NetSpec {
    std::string iface_id;
    std::string host_dev_name;   // the tap
    std::string guest_mac;       // empty: minivmm derives one from the tap's name
};

// Firecracker's vcpu_count range (minivmm itself takes up to MAX_VCPUS on its command line).
constexpr uint32_t API_MAX_VCPUS = 32;

class VmResources {
public:
    // `base`: what the command line gave (serial, seccomp, log level, its own devices, and
    // the kernel and sizes when it has them); the API's resources add to it.
    explicit VmResources(MachineConfig base);

    MaybeError put_boot_source(const nlohmann::json& body);
    MaybeError put_drive(std::string_view drive_id, const nlohmann::json& body);
    MaybeError put_network_interface(std::string_view iface_id, const nlohmann::json& body);
    MaybeError put_machine_config(const nlohmann::json& body);

    // The configuration to build the VM from; ErrorCode::Usage errors (a device the registry
    // refuses, a missing kernel).
    Result<MachineConfig> machine_config() const;
    // PUT /snapshot/load: the command line's host settings (serial, seccomp, ...) and the
    // snapshot to restore; the machine itself comes from the snapshot (Machine::create).
    MachineConfig restore_config(const RestoreConfig& restore) const;
    // FullVmConfiguration: boot-source, drives, network-interfaces, machine-config (and entropy
    // when the command line gave --rng), as far as minivmm has the fields.
    nlohmann::json full_config() const;
    nlohmann::json machine_config_json() const;   // MachineConfiguration

private:
    // to_start: also what starting needs (a kernel when the API is to give it; one vCPU for
    // a demo). Without it: the devices only, checked after each update.
    Result<MachineConfig> build(bool to_start) const;
    MaybeError check() const;

    MachineConfig base_;
    std::vector<DriveSpec> drives_;
    std::vector<NetSpec> nets_;
};

// Parses a request body as one JSON object (400: empty, not JSON, not an object).
MaybeError parse_json_object(std::string_view body, nlohmann::json& out);

} // namespace minivmm::api
