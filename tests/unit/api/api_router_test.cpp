// The routes against Firecracker's API: paths, methods, status codes (204 done, 200 with a body,
// 400 with {"fault_message"} for bad input, a wrong state, a wrong method or an unknown path),
// the request bodies' fields and what they turn into (the MachineConfig the VM is built from).
#include "api/api_router.hpp"

#include <gtest/gtest.h>

namespace minivmm::api {
namespace {

using nlohmann::json;

class FakeVmm final : public VmmControl {
public:
    InstanceState state() override { return state_; }
    Result<void> start(const MachineConfig& config) override {
        started_with = config;
        if (!start_error.empty()) return Error(ErrorCode::Input, start_error);
        state_ = InstanceState::Running;
        return {};
    }
    Reply command(Command command) override {
        commands.push_back(command);
        if (command == Command::Pause) state_ = InstanceState::Paused;
        if (command == Command::Resume) state_ = InstanceState::Running;
        return {true, "ok"};
    }
    InstanceState state_ = InstanceState::NotStarted;
    std::optional<MachineConfig> started_with;
    std::string start_error;
    std::vector<Command> commands;
};

MachineConfig api_only() {
    MachineConfig c;
    c.demo = "hello";
    c.api_socket = "/tmp/x.sock";
    c.start_from_api = true;
    return c;
}

struct Rig {
    FakeVmm vmm;
    ApiRouter router{VmResources(api_only()), vmm, "test-vm"};
    ApiResponse call(const std::string& method, const std::string& path, const std::string& body = "") {
        return router.handle(HttpRequest{method, path, body, true, ""});
    }
};

// A refusal: 400 and a body that is exactly {"fault_message": "..."} containing `text`.
void expect_fault(const ApiResponse& r, const std::string& text, int status = 400) {
    EXPECT_EQ(r.status, status) << r.body;
    json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j.size(), 1u) << r.body;
    ASSERT_TRUE(j.contains("fault_message") && j["fault_message"].is_string()) << r.body;
    EXPECT_NE(j["fault_message"].get<std::string>().find(text), std::string::npos) << r.body;
}

TEST(ApiRouter, InstanceInfoHasFirecrackersFields) {
    Rig rig;
    auto r = rig.call("GET", "/");
    ASSERT_EQ(r.status, 200);
    json j = json::parse(r.body);
    EXPECT_EQ(j["id"], "test-vm");
    EXPECT_EQ(j["state"], "Not started");
    EXPECT_EQ(j["app_name"], "minivmm");
    EXPECT_TRUE(j["vmm_version"].is_string());
    EXPECT_EQ(j.size(), 4u);
}

TEST(ApiRouter, UnknownPathsAndWrongMethodsAreBadRequests) {
    Rig rig;
    expect_fault(rig.call("GET", "/nothing"), "Invalid request method and/or path: GET /nothing.");
    expect_fault(rig.call("DELETE", "/boot-source"), "Invalid request method and/or path");
    expect_fault(rig.call("GET", "/boot-source"), "Invalid request method and/or path");
    expect_fault(rig.call("PUT", "/vm", R"({"state":"Paused"})"), "Invalid request method");
    expect_fault(rig.call("PUT", "/drives/", "{}"), "Invalid request method");
    expect_fault(rig.call("PUT", "/drives/a/b", "{}"), "Invalid request method");
    expect_fault(rig.call("GET", "/snapshot/create"), "Invalid request method and/or path");
    expect_fault(rig.call("PATCH", "/snapshot/load", "{}"), "Invalid request method and/or path");
    EXPECT_TRUE(rig.vmm.commands.empty());
}

TEST(ApiRouter, BodiesMustBeOneJsonObjectWithKnownFields) {
    Rig rig;
    expect_fault(rig.call("PUT", "/boot-source", ""), "Empty request body");
    expect_fault(rig.call("PUT", "/boot-source", "{\"kernel_image_path\": "), "not valid JSON");
    expect_fault(rig.call("PUT", "/boot-source", "[1,2]"), "must be a JSON object");
    expect_fault(rig.call("PUT", "/boot-source", R"({"kernel_image_path":"k","colour":"red"})"),
                 "unknown field `colour`");
    expect_fault(rig.call("PUT", "/boot-source", R"({"boot_args":"x"})"),
                 "missing field `kernel_image_path`");
    expect_fault(rig.call("PUT", "/boot-source", R"({"kernel_image_path":7})"),
                 "field `kernel_image_path` must be a string");
    expect_fault(rig.call("PATCH", "/vm", R"({"state":"Stopped"})"), "expected Paused or Resumed");
    expect_fault(rig.call("PUT", "/actions", R"({"action_type":"Reboot"})"), "unknown action_type");
    expect_fault(rig.call("PUT", "/actions", R"({})"), "missing field `action_type`");
    expect_fault(rig.call("PUT", "/actions", R"({"action_type":"InstanceStart","x":1})"),
                 "unknown field `x`");
}

TEST(ApiRouter, ConfigureThenStartBuildsTheMachineConfig) {
    Rig rig;
    EXPECT_EQ(rig.call("PUT", "/boot-source",
                       R"({"kernel_image_path":"/k/bzImage","boot_args":"console=ttyS0",
                           "initrd_path":"/k/initrd"})").status, 204);
    EXPECT_EQ(rig.call("PUT", "/machine-config", R"({"vcpu_count":2,"mem_size_mib":512})").status, 204);
    EXPECT_EQ(rig.call("PUT", "/drives/data",
                       R"({"drive_id":"data","path_on_host":"/d.img","is_root_device":false,
                           "is_read_only":true})").status, 204);
    EXPECT_EQ(rig.call("PUT", "/drives/rootfs",
                       R"({"drive_id":"rootfs","path_on_host":"/r.img","is_root_device":true,
                           "is_read_only":false,"cache_type":"Writeback","io_engine":"Sync"})").status, 204);
    EXPECT_EQ(rig.call("PUT", "/network-interfaces/eth0",
                       R"({"iface_id":"eth0","host_dev_name":"tap7","guest_mac":"52:54:00:12:34:56"})").status,
              204);
    auto cfg = json::parse(rig.call("GET", "/vm/config").body);
    EXPECT_EQ(cfg["boot-source"]["kernel_image_path"], "/k/bzImage");
    EXPECT_EQ(cfg["boot-source"]["initrd_path"], "/k/initrd");
    EXPECT_EQ(cfg["machine-config"]["vcpu_count"], 2);
    EXPECT_EQ(cfg["machine-config"]["mem_size_mib"], 512);
    ASSERT_EQ(cfg["drives"].size(), 2u);
    EXPECT_EQ(cfg["drives"][0]["drive_id"], "data");
    EXPECT_EQ(cfg["drives"][0]["is_read_only"], true);
    ASSERT_EQ(cfg["network-interfaces"].size(), 1u);
    EXPECT_EQ(cfg["network-interfaces"][0]["host_dev_name"], "tap7");
    EXPECT_EQ(json::parse(rig.call("GET", "/machine-config").body)["vcpu_count"], 2);

    EXPECT_EQ(rig.call("PUT", "/actions", R"({"action_type":"InstanceStart"})").status, 204);
    ASSERT_TRUE(rig.vmm.started_with);
    const MachineConfig& c = *rig.vmm.started_with;
    EXPECT_EQ(c.kernel, "/k/bzImage");
    EXPECT_EQ(c.initrd, "/k/initrd");
    EXPECT_EQ(c.cpus, 2u);
    EXPECT_EQ(c.mem_size, 512ull << 20);
    // The root drive is the first disk, /dev/vda, and the kernel is told (Firecracker's way).
    EXPECT_EQ(c.cmdline, "console=ttyS0 root=/dev/vda rw");
    ASSERT_EQ(c.devices.size(), 3u);
    EXPECT_EQ(c.devices[0].args->host_end(), "/r.img");
    EXPECT_EQ(c.devices[1].args->host_end(), "/d.img");
    EXPECT_EQ(c.devices[1].text, "/d.img,ro");
    EXPECT_EQ(c.devices[2].args->host_end(), "tap7");
    EXPECT_EQ(json::parse(rig.call("GET", "/").body)["state"], "Running");
}

TEST(ApiRouter, DrivesAreCheckedAndUpdatedInPlace) {
    Rig rig;
    const std::string root = R"({"drive_id":"a","path_on_host":"/a.img","is_root_device":true})";
    EXPECT_EQ(rig.call("PUT", "/drives/a", root).status, 204);
    expect_fault(rig.call("PUT", "/drives/b", root), "does not match");
    expect_fault(rig.call("PUT", "/drives/b",
                          R"({"drive_id":"b","path_on_host":"/b.img","is_root_device":true})"),
                 "A root block device already exists");
    expect_fault(rig.call("PUT", "/drives/b", R"({"drive_id":"b","path_on_host":"/b.img"})"),
                 "missing field `is_root_device`");
    expect_fault(rig.call("PUT", "/drives/b",
                          R"({"drive_id":"b","path_on_host":"/b,ro.img","is_root_device":false})"),
                 "no comma");
    expect_fault(rig.call("PUT", "/drives/b",
                          R"({"drive_id":"b","path_on_host":"/b.img","is_root_device":false,
                              "rate_limiter":{}})"),
                 "field `rate_limiter`: minivmm does not support");
    expect_fault(rig.call("PUT", "/drives/b",
                          R"({"drive_id":"b","path_on_host":"/b.img","is_root_device":false,
                              "io_engine":"Async"})"),
                 "io_engine");
    expect_fault(rig.call("PUT", "/drives/b",
                          R"({"drive_id":"b","path_on_host":"/b.img","is_root_device":false,
                              "cache_type":"Fast"})"),
                 "cache_type");
    // The same id again replaces the drive: still one.
    EXPECT_EQ(rig.call("PUT", "/drives/a",
                       R"({"drive_id":"a","path_on_host":"/a2.img","is_root_device":false})").status, 204);
    auto cfg = json::parse(rig.call("GET", "/vm/config").body);
    ASSERT_EQ(cfg["drives"].size(), 1u);
    EXPECT_EQ(cfg["drives"][0]["path_on_host"], "/a2.img");
    // The device registry's checks run at once: at most 8 disks.
    for (int i = 0; i < 7; ++i)
        EXPECT_EQ(rig.call("PUT", "/drives/d" + std::to_string(i),
                           R"({"drive_id":"d)" + std::to_string(i) +
                               R"(","path_on_host":"/d.img","is_root_device":false})").status, 204);
    auto ninth = rig.call("PUT", "/drives/d9",
                          R"({"drive_id":"d9","path_on_host":"/d.img","is_root_device":false})");
    EXPECT_EQ(ninth.status, 400) << ninth.body;
    EXPECT_EQ(json::parse(rig.call("GET", "/vm/config").body)["drives"].size(), 8u);
}

TEST(ApiRouter, NetworkInterfacesAndMachineConfigFollowTheSpecsRanges) {
    Rig rig;
    const char* base = R"({"iface_id":"eth0","host_dev_name":"tap0")";
    expect_fault(rig.call("PUT", "/network-interfaces/eth0", std::string(base) + R"(,"mtu":67})"), "68..65535");
    expect_fault(rig.call("PUT", "/network-interfaces/eth0", std::string(base) + R"(,"mtu":1500})"),
                 "field `mtu`: minivmm does not support");
    expect_fault(rig.call("PUT", "/network-interfaces/eth1", std::string(base) + "}"), "does not match");
    expect_fault(rig.call("PUT", "/network-interfaces/eth0", R"({"iface_id":"eth0"})"),
                 "missing field `host_dev_name`");
    EXPECT_EQ(rig.call("PUT", "/network-interfaces/eth0", std::string(base) + "}").status, 204);
    expect_fault(rig.call("PUT", "/network-interfaces/eth1", R"({"iface_id":"eth1","host_dev_name":"tap0"})"),
                 "tap0");   // the registry's check: one card per tap

    expect_fault(rig.call("PUT", "/machine-config", R"({"vcpu_count":0,"mem_size_mib":128})"), "1..32");
    expect_fault(rig.call("PUT", "/machine-config", R"({"vcpu_count":33,"mem_size_mib":128})"), "1..32");
    expect_fault(rig.call("PUT", "/machine-config", R"({"vcpu_count":-1,"mem_size_mib":128})"),
                 "unsigned integer");
    expect_fault(rig.call("PUT", "/machine-config", R"({"vcpu_count":1})"), "missing field `mem_size_mib`");
    expect_fault(rig.call("PUT", "/machine-config", R"({"vcpu_count":1,"mem_size_mib":1})"), "mem_size_mib");
    expect_fault(rig.call("PUT", "/machine-config", R"({"vcpu_count":2,"mem_size_mib":128,"smt":true})"),
                 "field `smt`");
    expect_fault(rig.call("PUT", "/machine-config",
                          R"({"vcpu_count":2,"mem_size_mib":128,"huge_pages":"2M"})"),
                 "field `huge_pages`");
    EXPECT_EQ(rig.call("PUT", "/machine-config",
                       R"({"vcpu_count":2,"mem_size_mib":128,"smt":false,"huge_pages":"None"})").status,
              204);
}

TEST(ApiRouter, ActionsInTheWrongStateAreRefused) {
    Rig rig;
    expect_fault(rig.call("PATCH", "/vm", R"({"state":"Paused"})"), "before starting");
    expect_fault(rig.call("PUT", "/actions", R"({"action_type":"SendCtrlAltDel"})"), "before starting");
    expect_fault(rig.call("PUT", "/actions", R"({"action_type":"InstanceStart"})"),
                 "without a boot source");
    EXPECT_FALSE(rig.vmm.started_with);
    // A start that fails says why; the instance is still not started and may be fixed.
    ASSERT_EQ(rig.call("PUT", "/boot-source", R"({"kernel_image_path":"/missing"})").status, 204);
    rig.vmm.start_error = "Cannot open kernel /missing";
    expect_fault(rig.call("PUT", "/actions", R"({"action_type":"InstanceStart"})"), "Cannot open kernel");
    EXPECT_EQ(json::parse(rig.call("GET", "/").body)["state"], "Not started");
    rig.vmm.start_error.clear();
    ASSERT_EQ(rig.call("PUT", "/actions", R"({"action_type":"InstanceStart"})").status, 204);

    expect_fault(rig.call("PUT", "/actions", R"({"action_type":"InstanceStart"})"), "after starting");
    expect_fault(rig.call("PUT", "/boot-source", R"({"kernel_image_path":"/k"})"), "after starting");
    expect_fault(rig.call("PUT", "/machine-config", R"({"vcpu_count":1,"mem_size_mib":128})"),
                 "after starting");
    expect_fault(rig.call("PUT", "/drives/x", R"({"drive_id":"x","path_on_host":"/x","is_root_device":false})"),
                 "after starting");
    expect_fault(rig.call("PUT", "/network-interfaces/x", R"({"iface_id":"x","host_dev_name":"t"})"),
                 "after starting");
    EXPECT_EQ(rig.call("PATCH", "/vm", R"({"state":"Paused"})").status, 204);
    EXPECT_EQ(json::parse(rig.call("GET", "/").body)["state"], "Paused");
    EXPECT_EQ(rig.call("PATCH", "/vm", R"({"state":"Resumed"})").status, 204);
    EXPECT_EQ(rig.call("PUT", "/actions", R"({"action_type":"SendCtrlAltDel"})").status, 204);
    EXPECT_EQ(rig.vmm.commands, (std::vector<Command>{Command::Pause, Command::Resume, Command::ResetLine}));
    expect_fault(rig.call("PUT", "/actions", R"({"action_type":"FlushMetrics"})"), "no metrics");
}

TEST(ApiRouter, ClientBytesThatAreNotUtf8StillGiveJson) {
    Rig rig;
    auto r = rig.call("GET", std::string("/\xff\xfe", 3));
    expect_fault(r, "Invalid request method");
    ASSERT_EQ(rig.call("PUT", "/boot-source", "{\"kernel_image_path\":\"/k\\u00ff\"}").status, 204);
    EXPECT_EQ(rig.call("GET", "/vm/config").status, 200);
}

TEST(ApiRouter, SnapshotCreateTakesFirecrackersFieldsAndPostsTheCommand) {
    Rig rig;
    const std::string ok = R"({"snapshot_type":"Full","snapshot_path":"/s","mem_file_path":"/m"})";
    expect_fault(rig.call("PUT", "/snapshot/create", ok), "before starting the microVM");
    rig.vmm.state_ = InstanceState::Paused;
    expect_fault(rig.call("PUT", "/snapshot/create", R"({"snapshot_path":"/s"})"),
                 "missing field `mem_file_path`");
    expect_fault(rig.call("PUT", "/snapshot/create",
                          R"({"snapshot_path":"/s","mem_file_path":"/m","colour":1})"),
                 "unknown field `colour`");
    expect_fault(rig.call("PUT", "/snapshot/create",
                          R"({"snapshot_type":"Diff","snapshot_path":"/s","mem_file_path":"/m"})"),
                 "Full snapshots only");
    expect_fault(rig.call("PUT", "/snapshot/create", R"({"snapshot_path":1,"mem_file_path":"/m"})"),
                 "must be a string");
    EXPECT_TRUE(rig.vmm.commands.empty());
    EXPECT_EQ(rig.call("PUT", "/snapshot/create", ok).status, 204);
    ASSERT_EQ(rig.vmm.commands.size(), 1u);
    EXPECT_EQ(rig.vmm.commands[0], Command(SnapshotPaths{"/s", "/m"}));
}

TEST(ApiRouter, SnapshotLoadStartsFromTheFilesAndRefusesWhatItLacks) {
    Rig rig;
    expect_fault(rig.call("PUT", "/snapshot/load", R"({"snapshot_path":"/s"})"),
                 "exactly one of `mem_file_path` and `mem_backend`");
    expect_fault(rig.call("PUT", "/snapshot/load",
                          R"({"snapshot_path":"/s","mem_file_path":"/m","mem_backend":{}})"),
                 "exactly one of");
    expect_fault(rig.call("PUT", "/snapshot/load",
                          R"({"snapshot_path":"/s","mem_backend":{"backend_type":"Uffd","backend_path":"/u"}})"),
                 "Uffd");
    expect_fault(rig.call("PUT", "/snapshot/load",
                          R"({"snapshot_path":"/s","mem_file_path":"/m","track_dirty_pages":true})"),
                 "track_dirty_pages");
    expect_fault(rig.call("PUT", "/snapshot/load",
                          R"({"snapshot_path":"/s","mem_file_path":"/m","vsock_override":{"uds_path":"/v"}})"),
                 "vsock_override");
    EXPECT_FALSE(rig.vmm.started_with);
    auto r = rig.call("PUT", "/snapshot/load",
                      R"({"snapshot_path":"/s","mem_backend":{"backend_type":"File","backend_path":"/m"},"resume_vm":true})");
    EXPECT_EQ(r.status, 204) << r.body;
    ASSERT_TRUE(rig.vmm.started_with && rig.vmm.started_with->restore);
    EXPECT_EQ(rig.vmm.started_with->restore->state, "/s");
    EXPECT_EQ(rig.vmm.started_with->restore->memory, "/m");
    EXPECT_TRUE(rig.vmm.started_with->restore->resume);
    expect_fault(rig.call("PUT", "/snapshot/load", R"({"snapshot_path":"/s","mem_file_path":"/m"})"),
                 "not allowed after");
}

// Firecracker's network_overrides: a card by its position in the snapshot (net0, net1, ...)
// onto another tap; every item checked against the spec's NetworkOverride.
TEST(ApiRouter, SnapshotLoadTakesNetworkOverridesByPosition) {
    Rig rig;
    const std::string head = R"({"snapshot_path":"/s","mem_file_path":"/m","network_overrides":)";
    expect_fault(rig.call("PUT", "/snapshot/load", head + R"({}})"), "must be an array");
    expect_fault(rig.call("PUT", "/snapshot/load", head + R"([1]})"), "must be objects");
    expect_fault(rig.call("PUT", "/snapshot/load", head + R"([{"iface_id":"net0"}]})"),
                 "missing field `host_dev_name`");
    expect_fault(rig.call("PUT", "/snapshot/load",
                          head + R"([{"iface_id":"net0","host_dev_name":"t","mtu":1}]})"),
                 "unknown field `mtu`");
    expect_fault(rig.call("PUT", "/snapshot/load",
                          head + R"([{"iface_id":"eth0","host_dev_name":"t"}]})"),
                 "iface_id `eth0`: a snapshot keeps no interface ids");
    EXPECT_FALSE(rig.vmm.started_with);
    auto r = rig.call("PUT", "/snapshot/load",
                      head + R"([{"iface_id":"net1","host_dev_name":"tap7"},)"
                             R"({"iface_id":"net0","host_dev_name":"tap6"}]})");
    EXPECT_EQ(r.status, 204) << r.body;
    ASSERT_TRUE(rig.vmm.started_with && rig.vmm.started_with->restore);
    const auto& o = rig.vmm.started_with->restore->overrides;
    ASSERT_EQ(o.size(), 2u);
    EXPECT_EQ(o[0].option, "net");
    EXPECT_EQ(o[0].index, 1u);
    EXPECT_EQ(o[0].text, "tap=tap7");
    EXPECT_EQ(o[1].index, 0u);
    EXPECT_EQ(o[1].text, "tap=tap6");
}

} // namespace
} // namespace minivmm::api
