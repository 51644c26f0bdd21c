// Checks our tables with the reference disassembler of the ACPICA project, `iasl -d` (Debian
// package acpica-tools). Skips, saying why, when iasl is not installed.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "acpi/acpi_tables.hpp"
#include "acpi/rsdp.hpp"
#include "run_process.hpp"
#include "table_reader.hpp"

namespace minivmm::acpi {
namespace {

namespace fs = std::filesystem;

// The first `iasl` on PATH, or an empty path.
fs::path find_iasl() {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        fs::path candidate = fs::path(dirs.substr(start, end - start)) / "iasl";
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
        start = end + 1;
    }
    return {};
}

class IaslTest : public ::testing::Test {
protected:
    void SetUp() override {
        iasl_ = find_iasl();
        if (iasl_.empty()) GTEST_SKIP() << "iasl not found in PATH (install acpica-tools)";
        std::string tmpl = (fs::path(::testing::TempDir()) / "minivmm-acpi-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    // MINIVMM_KEEP_ACPI_DUMPS=1 keeps the .dat/.dsl files for reading after a failure.
    void TearDown() override {
        std::error_code ec;
        if (!dir_.empty() && !std::getenv("MINIVMM_KEEP_ACPI_DUMPS")) fs::remove_all(dir_, ec);
    }

    fs::path dump(const std::string& name, const std::vector<uint8_t>& bytes) {
        fs::path file = dir_ / (name + ".dat");
        std::ofstream out(file, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
        return file;
    }

    // Runs `iasl <args> file` and fails the test on a non-zero exit or an error/warning line.
    void expect_clean(const std::vector<std::string>& args, const fs::path& file) {
        std::vector<std::string> argv{iasl_.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back(file.string());
        auto r = ::minivmm::test::run_process(argv, 60);
        const std::string output = r.out + r.err;
        EXPECT_EQ(r.exit_code, 0) << file.filename() << ":\n" << output;
        for (const char* bad : {"Error ", "Warning ", "Invalid", "does not match"})
            EXPECT_EQ(output.find(bad), std::string::npos)
                << file.filename() << " has \"" << bad << "\":\n" << output;
    }

    fs::path iasl_;
    fs::path dir_;
};

TEST_F(IaslTest, DisassemblesEveryTableWithoutErrors) {
    auto m = GuestMemory::create_x86(16ULL << 20);
    ASSERT_TRUE(m.has_value());
    AcpiConfig config;
    config.num_vcpus = 4;
    config.virtio_devices = {{0xd000'1000, 0x1000, 5}, {0xd000'2000, 0x1000, 6}};
    auto at = write_acpi_tables(config, *m, GuestAddress(layout::ACPI_TABLES_START));
    ASSERT_TRUE(at.has_value()) << at.error().message();

    const std::vector<std::pair<std::string, std::vector<uint8_t>>> tables{
        {"xsdt", test::read_table(*m, at->xsdt)},
        {"facp", test::read_table(*m, at->fadt)},
        {"apic", test::read_table(*m, at->madt)},
        {"dsdt", test::read_table(*m, at->dsdt)},
    };
    for (const auto& [name, bytes] : tables) {
        ASSERT_FALSE(bytes.empty()) << name;
        const fs::path file = dump(name, bytes);
        expect_clean({"-d"}, file);
        fs::path dsl = file;
        dsl.replace_extension(".dsl");
        ASSERT_TRUE(fs::exists(dsl)) << name << ": iasl wrote no " << dsl;
        // iasl reports some problems (a DSDT's bad checksum) only as comments in the listing.
        std::ifstream listing(dsl);
        const std::string text{std::istreambuf_iterator<char>(listing), {}};
        for (const char* bad : {"Incorrect", "****"})
            EXPECT_EQ(text.find(bad), std::string::npos)
                << dsl << " has \"" << bad << "\":\n" << text;
        // The disassembly must compile back: iasl checks the AML and table fields again.
        expect_clean({"-p", (dir_ / (name + "-re")).string()}, dsl);
    }
}

// iasl cannot disassemble a lone RSDP ("Binary file does not contain a valid ACPI table": it
// has no SDT header), but its data table compiler builds one and computes both checksums itself:
// the RSDP it compiles from our field values must equal ours byte for byte.
TEST_F(IaslTest, CompilesTheSameRsdp) {
    auto m = GuestMemory::create_x86(16ULL << 20);
    ASSERT_TRUE(m.has_value());
    auto rsdp_addr = build_acpi_tables(AcpiConfig{}, *m, GuestAddress(layout::ACPI_TABLES_START));
    ASSERT_TRUE(rsdp_addr.has_value()) << rsdp_addr.error().message();
    std::vector<uint8_t> ours(sizeof(Rsdp));
    ASSERT_TRUE(m->read(*rsdp_addr, ours));
    const auto rsdp = test::field<Rsdp>(ours, 0);

    const fs::path source = dir_ / "rsdp.asl";
    std::ofstream(source) << fmt::format(
        "[0008] Signature : \"RSD PTR \"\n"
        "[0001] Checksum : 00\n"
        "[0006] Oem ID : \"{}\"\n"
        "[0001] Revision : {:02X}\n"
        "[0004] RSDT Address : {:08X}\n"
        "[0004] Length : {:08X}\n"
        "[0008] XSDT Address : {:016X}\n"
        "[0001] Extended Checksum : 00\n"
        "[0003] Reserved : 000000\n",
        OEM_ID, rsdp.revision, rsdp.rsdt_address, rsdp.length, rsdp.xsdt_address);
    expect_clean({"-p", (dir_ / "rsdp-iasl").string()}, source);

    std::ifstream in(dir_ / "rsdp-iasl.aml", std::ios::binary);
    const std::vector<uint8_t> theirs{std::istreambuf_iterator<char>(in), {}};
    EXPECT_EQ(theirs, ours);
}

} // namespace
} // namespace minivmm::acpi
