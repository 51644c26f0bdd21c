#include "api/vm_resources.hpp"

#include <fmt/format.h>

#include "memory/layout.hpp"

namespace minivmm::api {

using nlohmann::json;

namespace {

#define API_TRY(expr)                                                                              \
    do {                                                                                           \
        if (MaybeError e_ = (expr)) return e_;                                                     \
    } while (0)

ApiError bad(std::string message) { return ApiError{400, std::move(message)}; }

// Every key of `body` must be one of `known`.
MaybeError only_fields(const json& body, std::initializer_list<std::string_view> known) {
    for (const auto& item : body.items()) {
        bool found = false;
        for (std::string_view k : known) found = found || item.key() == k;
        if (!found) return bad(fmt::format("unknown field `{}`", item.key()));
    }
    return {};
}

MaybeError get_string(const json& body, const char* key, bool required, std::string& out) {
    auto it = body.find(key);
    if (it == body.end())
        return required ? MaybeError(bad(fmt::format("missing field `{}`", key))) : MaybeError();
    if (!it->is_string()) return bad(fmt::format("invalid type: field `{}` must be a string", key));
    out = it->get<std::string>();
    return {};
}

MaybeError get_bool(const json& body, const char* key, bool required, bool& out) {
    auto it = body.find(key);
    if (it == body.end())
        return required ? MaybeError(bad(fmt::format("missing field `{}`", key))) : MaybeError();
    if (!it->is_boolean()) return bad(fmt::format("invalid type: field `{}` must be a boolean", key));
    out = it->get<bool>();
    return {};
}

MaybeError get_uint(const json& body, const char* key, bool required, uint64_t& out) {
    auto it = body.find(key);
    if (it == body.end())
        return required ? MaybeError(bad(fmt::format("missing field `{}`", key))) : MaybeError();
    if (!it->is_number_unsigned())
        return bad(fmt::format("invalid type: field `{}` must be an unsigned integer", key));
    out = it->get<uint64_t>();
    return {};
}

// A field minivmm does not implement: accepted only absent (or with the value that asks for
// what minivmm does anyway, `allowed`).
MaybeError unsupported(const json& body, const char* key, const json& allowed = json()) {
    auto it = body.find(key);
    if (it == body.end() || (!allowed.is_null() && *it == allowed)) return {};
    return bad(fmt::format("field `{}`: minivmm does not support this setting", key));
}

MaybeError check_id(std::string_view what, std::string_view path_id, const std::string& body_id) {
    if (path_id.empty()) return bad(fmt::format("empty {}", what));
    if (path_id != body_id)
        return bad(fmt::format("The {} from the path does not match the {} from the body", what,
                               what));
    return {};
}

// The option texts below are minivmm's own --disk and --net syntax: a comma would start an
// option, so a path or tap name holding one is refused rather than misread.
MaybeError no_comma(const char* field, const std::string& value) {
    if (value.find(',') == std::string::npos && !value.empty()) return {};
    return bad(fmt::format("field `{}`: must be non-empty and hold no comma", field));
}

// The parts after the first comma of a device option's text ("vm.img,ro,serial=x").
std::vector<std::string> option_parts(const std::string& text) {
    std::vector<std::string> parts;
    size_t start = text.find(',');
    while (start != std::string::npos) {
        size_t end = text.find(',', start + 1);
        parts.push_back(text.substr(start + 1, end == std::string::npos ? end : end - start - 1));
        start = end;
    }
    return parts;
}

// Firecracker's PUT of an id: a new one is added last, a known one replaced in its place.
template <class Spec>
void put_by_id(std::vector<Spec>& list, const Spec& item, std::string Spec::*id) {
    for (Spec& o : list)
        if (o.*id == item.*id) {
            o = item;
            return;
        }
    list.push_back(item);
}

uint64_t default_mem(const MachineConfig& c) {
    if (c.mem_size) return c.mem_size;
    return c.kernel || c.start_from_api ? layout::KERNEL_DEFAULT_RAM : layout::DEMO_DEFAULT_RAM;
}

} // namespace

MaybeError parse_json_object(std::string_view body, json& out) {
    if (body.empty()) return bad("Empty request body");
    out = json::parse(body.begin(), body.end(), nullptr, false);
    if (out.is_discarded()) return bad("The request body is not valid JSON");
    if (!out.is_object()) return bad("The request body must be a JSON object");
    return {};
}

VmResources::VmResources(MachineConfig base) : base_(std::move(base)) {}

MaybeError VmResources::put_boot_source(const json& body) {
    API_TRY(only_fields(body, {"kernel_image_path", "initrd_path", "boot_args"}));
    std::string kernel, initrd, args;
    API_TRY(get_string(body, "kernel_image_path", true, kernel));
    API_TRY(get_string(body, "initrd_path", false, initrd));
    API_TRY(get_string(body, "boot_args", false, args));
    if (kernel.empty()) return bad("field `kernel_image_path`: empty");
    // The whole source is replaced (Firecracker's PUT): fields left out are unset.
    base_.kernel = kernel;
    base_.initrd = initrd.empty() ? std::nullopt : std::optional<std::string>(initrd);
    base_.cmdline = args;
    return {};
}

MaybeError VmResources::put_drive(std::string_view drive_id, const json& body) {
    API_TRY(only_fields(body, {"drive_id", "partuuid", "is_root_device", "cache_type",
                               "is_read_only", "path_on_host", "rate_limiter", "io_engine",
                               "socket"}));
    DriveSpec d;
    API_TRY(get_string(body, "drive_id", true, d.drive_id));
    API_TRY(check_id("drive_id", drive_id, d.drive_id));
    API_TRY(get_bool(body, "is_root_device", true, d.is_root_device));
    API_TRY(get_bool(body, "is_read_only", false, d.is_read_only));
    API_TRY(get_string(body, "path_on_host", true, d.path_on_host));
    API_TRY(no_comma("path_on_host", d.path_on_host));
    std::string cache = "Unsafe", engine = "Sync";
    API_TRY(get_string(body, "cache_type", false, cache));
    API_TRY(get_string(body, "io_engine", false, engine));
    // minivmm's disks always honour the guest's flushes: both cache types get that.
    if (cache != "Unsafe" && cache != "Writeback")
        return bad("field `cache_type`: expected Unsafe or Writeback");
    if (engine != "Sync" && engine != "Async") return bad("field `io_engine`: expected Sync or Async");
    API_TRY(unsupported(body, "io_engine", "Sync"));
    API_TRY(unsupported(body, "partuuid"));
    API_TRY(unsupported(body, "rate_limiter"));
    API_TRY(unsupported(body, "socket"));
    const auto saved = drives_;
    put_by_id(drives_, d, &DriveSpec::drive_id);
    size_t roots = 0;
    for (const DriveSpec& o : drives_) roots += o.is_root_device ? 1 : 0;
    MaybeError error = roots > 1 ? bad("A root block device already exists") : check();
    if (error) drives_ = saved;
    return error;
}

MaybeError VmResources::put_network_interface(std::string_view iface_id, const json& body) {
    API_TRY(only_fields(body, {"iface_id", "host_dev_name", "guest_mac", "mtu", "rx_rate_limiter",
                               "tx_rate_limiter"}));
    NetSpec n;
    API_TRY(get_string(body, "iface_id", true, n.iface_id));
    API_TRY(check_id("iface_id", iface_id, n.iface_id));
    API_TRY(get_string(body, "host_dev_name", true, n.host_dev_name));
    API_TRY(no_comma("host_dev_name", n.host_dev_name));
    API_TRY(get_string(body, "guest_mac", false, n.guest_mac));
    if (body.contains("guest_mac")) API_TRY(no_comma("guest_mac", n.guest_mac));
    uint64_t mtu = 0;
    API_TRY(get_uint(body, "mtu", false, mtu));
    if (body.contains("mtu") && (mtu < 68 || mtu > 65535))
        return bad("field `mtu`: must be within 68..65535");
    API_TRY(unsupported(body, "mtu"));
    API_TRY(unsupported(body, "rx_rate_limiter"));
    API_TRY(unsupported(body, "tx_rate_limiter"));
    const auto saved = nets_;
    put_by_id(nets_, n, &NetSpec::iface_id);
    MaybeError error = check();
    if (error) nets_ = saved;
    return error;
}

MaybeError VmResources::put_machine_config(const json& body) {
    API_TRY(only_fields(body, {"vcpu_count", "mem_size_mib", "smt", "track_dirty_pages",
                               "huge_pages", "cpu_template"}));
    uint64_t vcpus = 0, mib = 0;
    API_TRY(get_uint(body, "vcpu_count", true, vcpus));
    API_TRY(get_uint(body, "mem_size_mib", true, mib));
    if (vcpus < 1 || vcpus > API_MAX_VCPUS)
        return bad(fmt::format("field `vcpu_count`: must be within 1..{}", API_MAX_VCPUS));
    if (mib < (layout::MIN_RAM_SIZE >> 20) || mib > (layout::MAX_RAM_SIZE >> 20))
        return bad(fmt::format("field `mem_size_mib`: must be within {}..{}",
                               layout::MIN_RAM_SIZE >> 20, layout::MAX_RAM_SIZE >> 20));
    bool flag = false;
    API_TRY(get_bool(body, "smt", false, flag));
    API_TRY(get_bool(body, "track_dirty_pages", false, flag));
    std::string text;
    API_TRY(get_string(body, "huge_pages", false, text));
    API_TRY(unsupported(body, "smt", false));
    API_TRY(unsupported(body, "track_dirty_pages", false));
    API_TRY(unsupported(body, "huge_pages", "None"));
    API_TRY(unsupported(body, "cpu_template", "None"));
    const MachineConfig saved = base_;
    base_.cpus = static_cast<uint32_t>(vcpus);
    base_.mem_size = mib << 20;
    MaybeError error = check();
    if (error) base_ = saved;
    return error;
}

Result<MachineConfig> VmResources::build(bool to_start) const {
    MachineConfig c = base_;
    if (to_start && !c.kernel && c.start_from_api)
        return Error(ErrorCode::Usage, "Cannot start the microVM without a boot source "
                                       "(PUT /boot-source)");
    if (to_start && !c.kernel && c.cpus != 1)
        return Error(ErrorCode::Usage, "the demo guests run on exactly one vCPU");
    // The root drive first among the API's drives, as /dev/vd<letter> after the command
    // line's disks (the plan gives disks their slots in the order of their options).
    std::vector<const DriveSpec*> order;
    for (const DriveSpec& d : drives_)
        if (d.is_root_device) order.push_back(&d);
    for (const DriveSpec& d : drives_)
        if (!d.is_root_device) order.push_back(&d);
    size_t disks = 0;
    for (const DeviceOption& o : c.devices) disks += o.type->option == "disk" ? 1u : 0u;
    for (const DriveSpec* d : order) {
        if (d->is_root_device) {
            if (disks >= 26) return Error(ErrorCode::Usage, "too many disks for a root device");
            c.cmdline += fmt::format("{}root=/dev/vd{} {}", c.cmdline.empty() ? "" : " ",
                                     static_cast<char>('a' + disks), d->is_read_only ? "ro" : "rw");
        }
        MINIVMM_TRY(add_device_option(c.devices, "disk",
                                      d->path_on_host + (d->is_read_only ? ",ro" : "")));
        ++disks;
    }
    for (const NetSpec& n : nets_)
        MINIVMM_TRY(add_device_option(
            c.devices, "net",
            "tap=" + n.host_dev_name + (n.guest_mac.empty() ? "" : ",mac=" + n.guest_mac)));
    return c;
}

MaybeError VmResources::check() const {
    auto built = build(false);
    if (!built) return bad(built.error().message());
    return {};
}

Result<MachineConfig> VmResources::machine_config() const { return build(true); }

MachineConfig VmResources::restore_config(const RestoreConfig& restore) const {
    MachineConfig config = base_;
    config.restore = restore;
    return config;
}

json VmResources::machine_config_json() const {
    return {{"vcpu_count", base_.cpus},
            {"mem_size_mib", default_mem(base_) >> 20},
            {"smt", false},
            {"track_dirty_pages", false},
            {"huge_pages", "None"}};
}

json VmResources::full_config() const {
    json out = json::object();
    if (base_.kernel) {
        json boot = {{"kernel_image_path", *base_.kernel}, {"boot_args", base_.cmdline}};
        if (base_.initrd) boot["initrd_path"] = *base_.initrd;
        out["boot-source"] = boot;
    }
    out["machine-config"] = machine_config_json();
    json drives = json::array(), nets = json::array();
    size_t disk = 0, net = 0;
    // The command line's devices, named by option and index (the command line has no ids).
    for (const DeviceOption& o : base_.devices) {
        const auto parts = option_parts(o.text);
        if (o.type->option == "disk") {
            bool ro = std::find(parts.begin(), parts.end(), "ro") != parts.end();
            drives.push_back({{"drive_id", fmt::format("disk{}", disk++)},
                              {"path_on_host", o.args->host_end()},
                              {"is_root_device", false},
                              {"is_read_only", ro}});
        } else if (o.type->option == "net") {
            json n = {{"iface_id", fmt::format("net{}", net++)}, {"host_dev_name", o.args->host_end()}};
            for (const auto& p : parts)
                if (p.rfind("mac=", 0) == 0) n["guest_mac"] = p.substr(4);
            nets.push_back(n);
        } else if (o.type->option == "rng") {
            out["entropy"] = json::object();
        }
    }
    for (const DriveSpec& d : drives_)
        drives.push_back({{"drive_id", d.drive_id},
                          {"path_on_host", d.path_on_host},
                          {"is_root_device", d.is_root_device},
                          {"is_read_only", d.is_read_only}});
    for (const NetSpec& n : nets_) {
        json j = {{"iface_id", n.iface_id}, {"host_dev_name", n.host_dev_name}};
        if (!n.guest_mac.empty()) j["guest_mac"] = n.guest_mac;
        nets.push_back(j);
    }
    out["drives"] = drives;
    out["network-interfaces"] = nets;
    return out;
}

} // namespace minivmm::api
