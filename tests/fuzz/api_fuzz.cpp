// libFuzzer target: the management API's request path with no VM: a client's bytes through
// HttpRequestReader (fed in pieces whose sizes the input chooses), each complete request through
// ApiRouter and VmResources' checks, onto a fake VM that starts, pauses and resumes. Oracles:
//  - no crash, leak or UB (ASan, UBSan), whatever the bytes (invalid UTF-8, deep JSON, huge
//    numbers, pipelining, chunked bodies);
//  - a refused read is 400 or 413; an answer is 200 with a JSON object, 204 with no body, or
//    400 with exactly {"fault_message": string};
//  - GET /minivmm/translate's query (gva, vcpu) reaches the VM only parsed and in range, and
//    its 200 carries the explanation;
//  - the state moves only as the API says: InstanceStart answered 204 only when not started,
//    PATCH /vm answered 204 only after a start, the fake VM paused exactly when told.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "api/api_router.hpp"
#include "api/http_request.hpp"
#include "api/translate_query.hpp"
#include "base/log.hpp"

using namespace minivmm;
using namespace minivmm::api;

namespace {

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) __builtin_trap();                                                             \
    } while (0)

class FakeVmm final : public VmmControl {
public:
    InstanceState state() override { return state_; }
    Result<void> start(const MachineConfig& config) override {
        CHECK(state_ == InstanceState::NotStarted);
        CHECK(config.kernel.has_value());
        state_ = InstanceState::Running;
        return {};
    }
    Reply command(Command command) override {
        CHECK(state_ != InstanceState::NotStarted);
        if (command == Command::Pause) state_ = InstanceState::Paused;
        if (command == Command::Resume) state_ = InstanceState::Running;
        if (command.kind == Command::Translate) {
            // Only a query the parser accepted gets here: an index in its range. The fake VM
            // has 2 vCPUs, so the refusal path is reached too; the walk is made up.
            CHECK(command.translate.vcpu < 1024);
            if (command.translate.vcpu >= 2) return {false, "vcpu out of range"};
            AddressExplanation e;
            e.gva = command.translate.gva;
            e.vcpu = command.translate.vcpu;
            if (e.gva & 1) e.walk.gpa = e.gva & 0xffffff;
            e.kvm = KvmTranslation{(e.gva & 1) != 0, e.gva & 0xffffff};
            Reply reply{true, "translated"};
            reply.explanation = e;
            return reply;
        }
        return {true, "ok"};
    }
    InstanceState state_ = InstanceState::NotStarted;
};

void check_answer(int status, const std::string& body) {
    if (status == 204) {
        CHECK(body.empty());
        return;
    }
    auto json = nlohmann::json::parse(body, nullptr, false);
    CHECK(json.is_object());
    if (status == 200) return;
    CHECK(status == 400 || status == 413);
    CHECK(json.size() == 1 && json.contains("fault_message") && json["fault_message"].is_string());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    set_log_level(LogLevel::Off);
    MachineConfig base;
    base.demo = "hello";
    base.api_socket = "/nonexistent/api.sock";
    base.start_from_api = true;
    FakeVmm vmm;
    ApiRouter router(VmResources(base), vmm, "fuzz");
    HttpRequestReader reader(HttpLimits{1024, 4096});
    size_t pos = 0;
    while (pos < size) {
        const size_t piece = std::min<size_t>(size - pos, 1 + data[pos] % 64);
        ++pos;
        const size_t n = std::min(piece, size - pos);
        auto status = reader.feed({reinterpret_cast<const char*>(data + pos), n});
        pos += n;
        while (status == HttpRequestReader::Status::Complete) {
            const HttpRequest& request = reader.request();
            CHECK(request.body.size() <= 4096);
            const InstanceState before = vmm.state();
            ApiResponse response = router.handle(request);
            check_answer(response.status, response.body);
            if (response.status == 204 && request.path == "/actions" &&
                request.body.find("InstanceStart") != std::string::npos)
                CHECK(before == InstanceState::NotStarted);
            if (response.status == 204 && request.path == "/vm")
                CHECK(before != InstanceState::NotStarted);
            if (response.status != 204 && response.status != 200) CHECK(vmm.state() == before);
            if (response.status == 200 && request.path == "/minivmm/translate") {
                auto json = nlohmann::json::parse(response.body);
                CHECK(json["explanation"].is_string() && json["gva"].is_string());
            }
            (void)format_response(response.status, response.body, request.keep_alive);
            status = reader.next();
        }
        if (status == HttpRequestReader::Status::Error) {
            CHECK(reader.error_status() == 400 || reader.error_status() == 413);
            check_answer(reader.error_status(), fault(reader.error_status(), reader.error_message()).body);
            break;
        }
    }
    return 0;
}
