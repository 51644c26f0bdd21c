// Unit tests for SerialConsole (vmm/machine/serial_console.hpp): the --serial forms' host ends.
#include "machine/serial_console.hpp"

#include <fcntl.h>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

namespace minivmm {
namespace {

TEST(SerialConsole, FileFormWritesGuestOutputToTheFile) {
    char path[] = "/tmp/minivmm-console-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    {
        auto console = SerialConsole::open({SerialConfig::Kind::File, path});
        ASSERT_TRUE(console) << console.error().message();
        auto sink = (*console)->sink();
        for (char c : std::string("boot\n")) sink(static_cast<uint8_t>(c));
    }
    char buf[16] = {};
    fd = ::open(path, O_RDONLY);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(::read(fd, buf, sizeof buf), 5);
    EXPECT_STREQ(buf, "boot\n");
    ::close(fd);
    ::unlink(path);
}

TEST(SerialConsole, FileFormErrorNamesTheFile) {
    auto console = SerialConsole::open({SerialConfig::Kind::File, "/nonexistent-dir/x.log"});
    ASSERT_FALSE(console);
    EXPECT_EQ(console.error().code(), ErrorCode::Input);
    EXPECT_NE(console.error().message().find("/nonexistent-dir/x.log"), std::string::npos);
}

TEST(SerialConsole, NonStdioFormsReadNoInput) {
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop);
    Serial16550 serial([](uint8_t) {}, std::make_shared<NoIrqLine>());
    for (auto kind : {SerialConfig::Kind::None, SerialConfig::Kind::File}) {
        auto console = SerialConsole::open({kind, "/dev/null"});
        ASSERT_TRUE(console);
        EXPECT_TRUE((*console)->connect_input(**loop, serial, [] {}, [] {}));
        EXPECT_EQ((*loop)->run_once(20), 0) << "nothing watched";
    }
}

} // namespace
} // namespace minivmm
