#include "cli/cli.hpp"
#include "runner/job.hpp"
#include "block/block_registration.hpp"
#include "sandbox/seccomp_filter.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace minivmm {
namespace {

using block::parse_disk_option;

TEST(ParseSize, AcceptsSuffixes) {
    EXPECT_EQ(*parse_size("4096"), 4096u);
    EXPECT_EQ(*parse_size("4k"), 4096u);
    EXPECT_EQ(*parse_size("512M"), 512ull << 20);
    EXPECT_EQ(*parse_size("512MiB"), 512ull << 20);
    EXPECT_EQ(*parse_size("2G"), 2ull << 30);
    EXPECT_EQ(*parse_size("1T"), 1ull << 40);
    EXPECT_EQ(*parse_size("64MB"), 64ull << 20);
    EXPECT_EQ(*parse_size("1KiB"), 1024u);
}

TEST(ParseSize, RejectsGarbage) {
    for (const char* bad : {"", "-1", "M", "12X", "1.5G", "1GG", " 1", "1 ", "1MBB", "1MiBB",
                            "1Mi", "1B", "0x100", "1KiBi"}) {
        auto r = parse_size(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code(), ErrorCode::Usage);
        }
    }
}

TEST(ParseSize, RejectsOverflow) {
    EXPECT_FALSE(parse_size("18446744073709551616"));   // 2^64
    EXPECT_FALSE(parse_size("17179869184G"));           // 2^34 GiB = 2^64
    EXPECT_TRUE(parse_size("18446744073709551615"));
}

// Found by config_fuzz: an argument holding a newline made the error two lines.
TEST(ErrorLine, IsOneLineWithControlCharactersEscaped) {
    EXPECT_EQ(error_line(Error(ErrorCode::Usage, "--mem: Invalid size '1\n)'")),
              "minivmm: error: --mem: Invalid size '1\\n)'\n");
    EXPECT_EQ(error_line(Error(ErrorCode::Input, "Kernel a\tb\x1b[31m is empty")),
              "minivmm: error: Kernel a\\tb\\x1b[31m is empty\n");
    EXPECT_EQ(error_line(Error(ErrorCode::Input, "Kernel \xc3\xa9t\xc3\xa9 is empty")),
              "minivmm: error: Kernel \xc3\xa9t\xc3\xa9 is empty\n");   // UTF-8 names kept
}

TEST(ParseSerial, AcceptsTheThreeForms) {
    EXPECT_EQ(parse_serial("stdio")->kind, SerialConfig::Kind::Stdio);
    EXPECT_EQ(parse_serial("none")->kind, SerialConfig::Kind::None);
    auto file = parse_serial("file:/tmp/console.log");
    ASSERT_TRUE(file);
    EXPECT_EQ(file->kind, SerialConfig::Kind::File);
    EXPECT_EQ(file->path, "/tmp/console.log");
    EXPECT_EQ(parse_serial("file:a:b")->path, "a:b");
}

TEST(ParseSerial, RejectsEverythingElse) {
    for (const char* bad : {"", "file:", "file", "STDIO", "tty", "stdio ", "pty", "null"}) {
        auto r = parse_serial(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code(), ErrorCode::Usage);
        }
    }
}

TEST(ParseCommandLine, SerialDefaultsToStdioAndIsParsed) {
    std::vector<std::string> args{"minivmm"};
    auto argv = [&] {
        std::vector<char*> v;
        for (auto& a : args) v.push_back(a.data());
        return v;
    };
    auto v = argv();
    auto config = parse_command_line(static_cast<int>(v.size()), v.data());
    ASSERT_TRUE(config && config->has_value());
    EXPECT_EQ((*config)->serial.kind, SerialConfig::Kind::Stdio);

    args = {"minivmm", "--serial", "file:out.txt"};
    v = argv();
    config = parse_command_line(static_cast<int>(v.size()), v.data());
    ASSERT_TRUE(config && config->has_value());
    EXPECT_EQ((*config)->serial.kind, SerialConfig::Kind::File);
    EXPECT_EQ((*config)->serial.path, "out.txt");

    args = {"minivmm", "--serial", "bogus"};
    v = argv();
    config = parse_command_line(static_cast<int>(v.size()), v.data());
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().code(), ErrorCode::Usage);
}

// parse_command_line on "minivmm" followed by `args`.
Result<std::optional<MachineConfig>> parse(std::vector<std::string> args) {
    args.insert(args.begin(), "minivmm");
    std::vector<char*> v;
    for (auto& a : args) v.push_back(a.data());
    return parse_command_line(static_cast<int>(v.size()), v.data());
}

// Each device type's option, by type (the registry's order) and within a type in the order
// given; --rng takes its value optionally.
TEST(ParseCommandLine, DeviceOptionsComeFromTheRegistry) {
    auto config = parse({"--rng", "--disk", "vm.img,ro", "--rng", "rate=100", "--net", "tap0"});
    ASSERT_TRUE(config && config->has_value()) << (config ? "" : config.error().message());
    const auto& devices = (*config)->devices;
    ASSERT_EQ(devices.size(), 4u);
    EXPECT_EQ(devices[0].type, find_device_type("disk"));
    EXPECT_EQ(devices[0].args->host_end(), "vm.img");
    EXPECT_EQ(devices[1].type, find_device_type("net"));
    EXPECT_EQ(devices[2].args->host_end(), "getrandom, 1048576 B/s");
    EXPECT_EQ(devices[3].args->host_end(), "getrandom, 100 B/s");
    auto bad = parse({"--rng", "rate=1"});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), ErrorCode::Usage);
    EXPECT_FALSE(parse({"--net", "tap0", "--net", "tap0"}));   // a tap given twice
}

// --api-socket alone waits for the API to start the VM; with --demo or --kernel it starts at once.
TEST(ParseCommandLine, ApiSocketAloneWaitsForTheApi) {
    auto alone = parse({"--api-socket", "/tmp/vm.sock"});
    ASSERT_TRUE(alone && alone->has_value());
    EXPECT_EQ((*alone)->api_socket, "/tmp/vm.sock");
    EXPECT_TRUE((*alone)->start_from_api);
    auto demo = parse({"--demo", "hello", "--api-socket", "/tmp/vm.sock"});
    ASSERT_TRUE(demo && demo->has_value());
    EXPECT_FALSE((*demo)->start_from_api);
    auto none = parse({});
    ASSERT_TRUE(none && none->has_value());
    EXPECT_FALSE((*none)->api_socket);
    EXPECT_FALSE((*none)->start_from_api);
    EXPECT_FALSE(parse({"--api-socket", "/tmp/vm.sock", "--dump-dtb", "/tmp/x.dtb"}));
}

TEST(ParseCommandLine, RestoreTakesStateMemAndResumeAndNothingThatShapesTheMachine) {
    auto paused = parse({"--restore", "/s,/m", "--api-socket", "/tmp/vm.sock"});
    ASSERT_TRUE(paused && paused->has_value());
    ASSERT_TRUE((*paused)->restore);
    EXPECT_EQ((*paused)->restore->state, "/s");
    EXPECT_EQ((*paused)->restore->memory, "/m");
    EXPECT_FALSE((*paused)->restore->resume);
    EXPECT_FALSE((*paused)->start_from_api);
    auto running = parse({"--restore", "/s,/m,resume"});
    ASSERT_TRUE(running && running->has_value());
    EXPECT_TRUE((*running)->restore->resume);
    for (const char* bad : {"", ",/m", "/s,", "/s,/m,go", "/s,/m,resume,resume", "/d,,resume"})
        EXPECT_FALSE(parse({"--restore", bad})) << bad;
    // A directory as `minivmm ctl SOCKET snapshot DIR` writes it.
    auto dir = parse({"--restore", "/snap"});
    ASSERT_TRUE(dir && dir->has_value());
    EXPECT_EQ((*dir)->restore->state, "/snap/vm.state");
    EXPECT_EQ((*dir)->restore->memory, "/snap/vm.mem");
    EXPECT_FALSE((*dir)->restore->resume);
    auto dir_running = parse({"--restore", "/snap,resume"});
    ASSERT_TRUE(dir_running && dir_running->has_value());
    EXPECT_EQ((*dir_running)->restore->memory, "/snap/vm.mem");
    EXPECT_TRUE((*dir_running)->restore->resume);
    EXPECT_FALSE(parse({"--restore", "/s,/m", "--demo", "hello"}));
    EXPECT_FALSE(parse({"--restore", "/s,/m", "--mem", "64M"}));
    EXPECT_FALSE(parse({"--restore", "/s,/m", "--rng"}));
    EXPECT_FALSE(parse({"--restore", "/s,/m", "--share", "/tmp"}));
}

// --disk and --net with --restore name other host ends for the snapshot's devices, by position
// among their option's; they are no devices of their own.
TEST(ParseCommandLine, RestoreTakesDiskAndNetAsOverridesInOrder) {
    auto config = parse({"--restore", "/snap", "--disk", "b.img", "--net", "tap1", "--disk",
                         "c.img,ro"});
    ASSERT_TRUE(config && config->has_value()) << (config ? "" : config.error().message());
    EXPECT_TRUE((*config)->devices.empty());
    const auto& o = (*config)->restore->overrides;
    ASSERT_EQ(o.size(), 3u);
    EXPECT_EQ(o[0].option, "disk");
    EXPECT_EQ(o[0].index, 0u);
    EXPECT_EQ(o[0].text, "b.img");
    EXPECT_EQ(o[1].option, "disk");
    EXPECT_EQ(o[1].index, 1u);
    EXPECT_EQ(o[1].text, "c.img,ro");
    EXPECT_EQ(o[2].option, "net");
    EXPECT_EQ(o[2].index, 0u);
    EXPECT_EQ(o[2].text, "tap1");
    auto rng = parse({"--restore", "/snap", "--disk", "b.img", "--rng"});
    ASSERT_FALSE(rng);
    EXPECT_NE(rng.error().message().find("--rng cannot be given with --restore"),
              std::string::npos) << rng.error().message();
    EXPECT_FALSE(parse({"--restore", "/snap", "--disk", "b.img,bogus"}));   // still parsed
}

// --share goes to MachineConfig::shares (where other code adds shares too), not to devices.
TEST(ParseCommandLine, SharesGoToTheirOwnList) {
    auto config = parse({"--share", "/tmp", "--rng", "--share", "/,tag=root,rw"});
    ASSERT_TRUE(config && config->has_value()) << (config ? "" : config.error().message());
    EXPECT_EQ((*config)->devices.size(), 1u);
    const auto& shares = (*config)->shares;
    ASSERT_EQ(shares.size(), 2u);
    EXPECT_EQ(shares[0].dir, "/tmp");
    EXPECT_EQ(shares[0].tag, "share0");
    EXPECT_FALSE(shares[0].writable);
    EXPECT_EQ(shares[1].dir, "/");
    EXPECT_EQ(shares[1].tag, "root");
    EXPECT_TRUE(shares[1].writable);
    auto missing = parse({"--share", "/nonexistent-minivmm-dir"});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code(), ErrorCode::Input);
    auto twice = parse({"--share", "/tmp,tag=a", "--share", "/,tag=a"});
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code(), ErrorCode::Usage);
}

// Seccomp is on unless --no-seccomp (off by default in sanitizer builds: SECCOMP_BY_DEFAULT);
// --seccomp is still accepted (it names the default), and the two together are a usage error.
TEST(ParseCommandLine, SeccompIsOnByDefaultAndNoSeccompTurnsItOff) {
    auto plain = parse({});
    ASSERT_TRUE(plain && plain->has_value());
    EXPECT_EQ((*plain)->seccomp, sandbox::SECCOMP_BY_DEFAULT);
    auto on = parse({"--seccomp"});
    ASSERT_TRUE(on && on->has_value());
    EXPECT_TRUE((*on)->seccomp);
    auto off = parse({"--no-seccomp"});
    ASSERT_TRUE(off && off->has_value());
    EXPECT_FALSE((*off)->seccomp);
    auto both = parse({"--seccomp", "--no-seccomp"});
    ASSERT_FALSE(both);
    EXPECT_EQ(both.error().code(), ErrorCode::Usage);
}

TEST(CheckKernelFile, AcceptsElfAndBzImageRefusesGarbage) {
    char elf_path[] = "/tmp/minivmm-kernel-XXXXXX";
    int fd = mkstemp(elf_path);
    ASSERT_GE(fd, 0);
    std::string elf = "\x7f" "ELF";
    elf.resize(64, '\0');
    ASSERT_EQ(write(fd, elf.data(), elf.size()), static_cast<ssize_t>(elf.size()));
    EXPECT_TRUE(check_kernel_file(elf_path));   // ELF details are checked by the loader
    std::string bz(0x400, '\0');
    bz.replace(0x202, 4, "HdrS");
    ASSERT_EQ(pwrite(fd, bz.data(), bz.size(), 0), static_cast<ssize_t>(bz.size()));
    EXPECT_TRUE(check_kernel_file(elf_path));   // the setup header is checked by the loader
    ASSERT_EQ(pwrite(fd, "garbage!", 8, 0), 8);
    ASSERT_EQ(ftruncate(fd, 8), 0);
    auto r = check_kernel_file(elf_path);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ErrorCode::Input);
    EXPECT_NE(r.error().message().find("neither a bzImage"), std::string::npos);
    close(fd);
    unlink(elf_path);
}

TEST(ParseDiskOption, ReadsPathReadOnlyAndSerial) {
    auto d = parse_disk_option("/images/vm.img,ro,serial=vm-1");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->path, "/images/vm.img");
    EXPECT_TRUE(d->read_only);
    EXPECT_EQ(d->serial, "vm-1");
    auto plain = parse_disk_option("vm.img");
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->read_only);
    EXPECT_EQ(plain->serial, "");
}

TEST(ParseDiskOption, RefusesEmptyPathUnknownOptionAndLongSerial) {
    for (const char* bad : {"", ",ro", "vm.img,rw", "vm.img,", "vm.img,serial=123456789012345678901"}) {
        auto r = parse_disk_option(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) {
            EXPECT_EQ(r.error().code(), ErrorCode::Usage);
        }
    }
    EXPECT_TRUE(parse_disk_option("vm.img,serial=12345678901234567890"));   // exactly 20
}

// A file check_kernel_file accepts (an ELF header; the loader checks the rest), removed at the end.
struct FakeKernel {
    FakeKernel() {
        int fd = ::mkstemp(path);
        const char elf[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
        EXPECT_EQ(::write(fd, elf, sizeof elf), static_cast<ssize_t>(sizeof elf));
        ::close(fd);
    }
    ~FakeKernel() { ::unlink(path); }
    char path[32] = "/tmp/minivmm-kernel-XXXXXX";
};

std::vector<std::string> console_texts(const MachineConfig& c) {
    std::vector<std::string> out;
    for (const DeviceOption& d : c.devices)
        if (d.type->option == "console") out.push_back(d.args->host_end());
    return out;
}

TEST(ParseCommandLine, EverythingAfterDashDashIsTheCommand) {
    FakeKernel k;
    auto c = parse({"--kernel", k.path, "--", "ls", "--help", "-l", "--", "--kernel"});
    ASSERT_TRUE(c && c->has_value()) << (c ? "" : c.error().message());
    const MachineConfig& config = **c;
    EXPECT_EQ(config.command, (std::vector<std::string>{"ls", "--help", "-l", "--", "--kernel"}));
    EXPECT_EQ(config.boot_timeout_seconds, DEFAULT_BOOT_TIMEOUT_SECONDS);
    // The kernel's log is discarded unless --serial says otherwise.
    EXPECT_EQ(config.serial.kind, SerialConfig::Kind::None);
    // CMD's stdout and stderr are the first consoles (hvc0, hvc1), the user's after them.
    EXPECT_EQ(console_texts(config), (std::vector<std::string>{"stdout", "stderr"}));
}

TEST(ParseCommandLine, RunnerKeepsAnExplicitSerialAndTheUsersConsolesAfterItsOwn) {
    FakeKernel k;
    auto c = parse({"--kernel", k.path, "--serial", "file:/tmp/log", "--console", "file=/tmp/c",
                    "--boot-timeout", "0", "--", "true"});
    ASSERT_TRUE(c && c->has_value()) << (c ? "" : c.error().message());
    EXPECT_EQ((*c)->serial.kind, SerialConfig::Kind::File);
    EXPECT_EQ((*c)->boot_timeout_seconds, 0u);
    EXPECT_EQ(console_texts(**c), (std::vector<std::string>{"stdout", "stderr", "file=/tmp/c"}));
}

TEST(ParseCommandLine, WithoutDashDashNothingChanges) {
    FakeKernel k;
    auto c = parse({"--kernel", k.path});
    ASSERT_TRUE(c && c->has_value());
    EXPECT_TRUE((*c)->command.empty());
    EXPECT_EQ((*c)->boot_timeout_seconds, 0u);
    EXPECT_EQ((*c)->serial.kind, SerialConfig::Kind::Stdio);
    EXPECT_TRUE(console_texts(**c).empty());
}

TEST(ParseCommandLine, RunnerMisuseIsAUsageError) {
    FakeKernel k;
    const std::string kernel = k.path;
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"--", "true"},
             {"--kernel", kernel, "--"},
             {"--kernel", kernel, "--boot-timeout", "3"},
             {"--kernel", kernel, "--console", "stdio", "--", "true"},
             {"--kernel", kernel, "--console", "stderr", "--", "true"},
         }) {
        auto c = parse(args);
        ASSERT_FALSE(c) << args.size();
        EXPECT_EQ(c.error().code(), ErrorCode::Usage);
    }
}

// Without --initrd the guest's root is the host's: "/" shared read-only under the runner's
// tag; with one, only the user's shares.
TEST(ParseCommandLine, RunnerWithoutAnInitrdSharesTheHostsRootReadOnly) {
    FakeKernel k;
    auto c = parse({"--kernel", k.path, "--share", "/tmp,tag=work,rw", "--", "true"});
    ASSERT_TRUE(c && c->has_value()) << (c ? "" : c.error().message());
    const auto& shares = (*c)->shares;
    ASSERT_EQ(shares.size(), 2u);
    EXPECT_EQ(shares[0].tag, "work");
    EXPECT_EQ(shares[1].dir, "/");
    EXPECT_EQ(shares[1].tag, runner::ROOT_TAG);
    EXPECT_FALSE(shares[1].writable);

    auto with_initrd = parse({"--kernel", k.path, "--initrd", k.path, "--", "true"});
    ASSERT_TRUE(with_initrd && with_initrd->has_value());
    EXPECT_TRUE((*with_initrd)->shares.empty());

    auto clash = parse({"--kernel", k.path, "--share", "/tmp,tag=minivmm-root", "--", "true"});
    ASSERT_FALSE(clash);
    EXPECT_NE(clash.error().message().find("host's root"), std::string::npos)
        << clash.error().message();
}

} // namespace
} // namespace minivmm
