// GET /minivmm/translate: the query parsed as hostile input (bad hex, overflow, repeats,
// unknown keys, out-of-range vCPUs are 400s with a fault_message), the route asking the VM for
// the walk only when the query is good, and the answer's JSON taken from the explanation.
#include "api/translate_query.hpp"

#include <gtest/gtest.h>

#include "api/api_router.hpp"

namespace minivmm::api {
namespace {

using nlohmann::json;

TEST(TranslateQuery, GvaIsHexWithOrWithout0xAndAtMost64Bits) {
    EXPECT_EQ(parse_gva("0xffffffff81000000"), 0xffffffff81000000ULL);
    EXPECT_EQ(parse_gva("7F12345679A0"), 0x7f12345679a0ULL);
    EXPECT_EQ(parse_gva("0X0"), 0u);
    EXPECT_EQ(parse_gva("ffffffffffffffff"), UINT64_MAX);
    for (const char* bad : {"", "0x", "x10", "0x1ffffffffffffffff", "00000000000000000", "-1",
                            "+1", " 1", "1 ", "0x1g", "1_000", "0x%31", "10h", "0xx1"})
        EXPECT_EQ(parse_gva(bad), std::nullopt) << bad;
}

TEST(TranslateQuery, GvaAndVcpuInEitherOrderVcpuDefaultsToZero) {
    TranslateRequest r;
    ASSERT_EQ(parse_translate_query("gva=0x1000", r), std::nullopt);
    EXPECT_EQ(r, (TranslateRequest{0x1000, 0}));
    ASSERT_EQ(parse_translate_query("vcpu=3&gva=abc", r), std::nullopt);
    EXPECT_EQ(r, (TranslateRequest{0xabc, 3}));
    ASSERT_EQ(parse_translate_query("gva=1&vcpu=1023", r), std::nullopt);
    EXPECT_EQ(r.vcpu, 1023u);
}

TEST(TranslateQuery, BadQueriesSayWhatIsWrong) {
    const std::pair<const char*, const char*> cases[] = {
        {"", "missing `gva`"},
        {"vcpu=0", "missing `gva`"},
        {"gva=", "`gva` must be 1 to 16 hexadecimal digits"},
        {"gva", "`gva` must be"},
        {"gva=0x10000000000000000", "`gva` must be"},
        {"gva=0x1&gva=0x2", "`gva` given twice"},
        {"gva=1&vcpu=", "`vcpu` must be a decimal index below 1024"},
        {"gva=1&vcpu=1024", "below 1024"},
        {"gva=1&vcpu=99999", "below 1024"},
        {"gva=1&vcpu=4294967297", "below 1024"},
        {"gva=1&vcpu=-1", "below 1024"},
        {"gva=1&vcpu=0x1", "below 1024"},
        {"gva=1&vcpu=1&vcpu=2", "`vcpu` given twice"},
        {"gva=1&cpu=0", "unknown parameter `cpu`"},
        {"gva=1&\x01\xff=2", "unknown parameter `??`"},
    };
    for (const auto& [query, text] : cases) {
        TranslateRequest r;
        MaybeError e = parse_translate_query(query, r);
        ASSERT_TRUE(e) << query;
        EXPECT_EQ(e->status, 400) << query;
        EXPECT_NE(e->message.find(text), std::string::npos) << query << ": " << e->message;
    }
}

class TranslatingVmm final : public VmmControl {
public:
    InstanceState state() override { return state_; }
    Result<void> start(const MachineConfig&) override { return {}; }
    Reply command(Command command) override {
        commands.push_back(command);
        if (command.translate.vcpu > 0) return {false, "vcpu 1 out of range: the VM has 1 vCPU"};
        AddressExplanation e;
        e.gva = command.translate.gva;
        e.walk.gpa = 0xabc9a0;
        e.walk.page_size = 4096;
        e.kvm = KvmTranslation{true, 0xabc9a0};
        e.slot = MemorySlot{0, 0, 16 << 20, 0x7f0000000000, false, false};
        e.hpa = uint64_t{0x123459a0};
        e.bytes = {'h', 'i'};
        Reply reply{true, "translated"};
        reply.explanation = e;
        return reply;
    }
    InstanceState state_ = InstanceState::Running;
    std::vector<Command> commands;
};

struct Rig {
    TranslatingVmm vmm;
    ApiRouter router{VmResources(MachineConfig{}), vmm, "t"};
    ApiResponse get(const std::string& query) {
        HttpRequest request{"GET", "/minivmm/translate", "", true, query};
        return router.handle(request);
    }
};

std::string fault_message(const ApiResponse& r) {
    json j = json::parse(r.body, nullptr, false);
    return j.is_object() && j.size() == 1 && j["fault_message"].is_string()
               ? j["fault_message"].get<std::string>()
               : "not a fault body: " + r.body;
}

TEST(TranslateRoute, AnswersTheWalksFactsAndItsText) {
    Rig rig;
    ApiResponse r = rig.get("gva=0x7f12345679a0");
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(rig.vmm.commands.size(), 1u);
    EXPECT_EQ(rig.vmm.commands[0], Command(TranslateRequest{0x7f12345679a0, 0}));
    json j = json::parse(r.body);
    EXPECT_EQ(j["gva"], "0x7f12345679a0");
    EXPECT_EQ(j["vcpu"], 0);
    EXPECT_EQ(j["gpa"], "0xabc9a0");
    EXPECT_EQ(j["page_size"], 4096);
    EXPECT_EQ(j["kvm_translate_gpa"], "0xabc9a0");
    EXPECT_EQ(j["slot"], 0);
    EXPECT_EQ(j["hva"], "0x7f0000abc9a0");
    EXPECT_EQ(j["hpa"], "0x123459a0");
    EXPECT_EQ(j["bytes"], "6869");
    const std::string text = j["explanation"].get<std::string>();
    EXPECT_EQ(text.rfind("minivmm: explain GVA 0x7f12345679a0 (vcpu0)\n", 0), 0u) << text;
    EXPECT_NE(text.find("KVM_TRANSLATE: GPA 0xabc9a0: agrees"), std::string::npos) << text;
}

TEST(TranslateRoute, ABadQueryNeverReachesTheVmAndARefusalIsA400) {
    Rig rig;
    ApiResponse bad = rig.get("gva=0xZZ");
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(fault_message(bad).find("`gva` must be"), std::string::npos) << bad.body;
    EXPECT_TRUE(rig.vmm.commands.empty());
    ApiResponse range = rig.get("gva=0x1000&vcpu=1");
    EXPECT_EQ(range.status, 400);
    EXPECT_EQ(fault_message(range), "vcpu 1 out of range: the VM has 1 vCPU");
    rig.vmm.state_ = InstanceState::NotStarted;
    EXPECT_NE(fault_message(rig.get("gva=0x1000")).find("before starting"), std::string::npos);
    EXPECT_EQ(rig.vmm.commands.size(), 1u);
    HttpRequest put{"PUT", "/minivmm/translate", "{}", true, "gva=1"};
    EXPECT_EQ(rig.router.handle(put).status, 400);
}

TEST(TranslateRoute, NoTranslationGivesNullsNotZeros) {
    AddressExplanation e;
    e.gva = 0x7f1234568000;
    e.walk.stopped = "PT[360] is not present: a page fault";
    e.kvm = KvmTranslation{false, 0};
    json j = translate_json(e);
    EXPECT_TRUE(j["gpa"].is_null());
    EXPECT_TRUE(j["kvm_translate_gpa"].is_null());
    EXPECT_TRUE(j["slot"].is_null());
    EXPECT_TRUE(j["hva"].is_null());
    EXPECT_TRUE(j["hpa"].is_null());
    EXPECT_NE(j["explanation"].get<std::string>().find("walk stopped: PT[360] is not present"),
              std::string::npos);
}

} // namespace
} // namespace minivmm::api
