#include "machine/outcome.hpp"

#include <gtest/gtest.h>

namespace minivmm {
namespace {

TEST(Outcome, GuestStatusIsExact) {
    for (int status : {0, 1, 42, 255}) {
        Outcome o{Ending::GuestStatus, static_cast<uint8_t>(status), {}};
        EXPECT_EQ(o.process_exit_code(), status);
    }
}

TEST(Outcome, EachEndingHasItsDocumentedCode) {
    EXPECT_EQ((Outcome{Ending::TripleFault, 0, {}}).process_exit_code(), 120);
    EXPECT_EQ((Outcome{Ending::InternalError, 0, {}}).process_exit_code(), 121);
    EXPECT_EQ((Outcome{Ending::FailEntry, 0, {}}).process_exit_code(), 122);
    EXPECT_EQ((Outcome{Ending::UnhandledExit, 0, {}}).process_exit_code(), 123);
    EXPECT_EQ((Outcome{Ending::Timeout, 0, {}}).process_exit_code(), 124);
    EXPECT_EQ((Outcome{Ending::Interrupted, 0, {}}).process_exit_code(), 130);
    EXPECT_EQ((Outcome{Ending::Terminated, 0, {}}).process_exit_code(), 143);
    EXPECT_EQ((Outcome{Ending::HostError, 0, {}}).process_exit_code(), 5);
    EXPECT_EQ((Outcome{Ending::PowerOff, 0, {}}).process_exit_code(), 0);
    EXPECT_EQ((Outcome{Ending::Reboot, 0, {}}).process_exit_code(), 0);
    EXPECT_EQ((Outcome{Ending::ConsoleQuit, 0, {}}).process_exit_code(), 130);
}

TEST(Outcome, GuestAndUserRequestedEndingsAreClean) {
    EXPECT_TRUE(is_clean_ending(Ending::PowerOff));
    EXPECT_TRUE(is_clean_ending(Ending::Reboot));
    EXPECT_TRUE(is_clean_ending(Ending::ConsoleQuit));
    for (Ending e : {Ending::GuestStatus, Ending::TripleFault, Ending::InternalError,
                     Ending::FailEntry, Ending::UnhandledExit, Ending::HostError, Ending::Timeout,
                     Ending::Interrupted, Ending::Terminated})
        EXPECT_FALSE(is_clean_ending(e)) << static_cast<int>(e);
}

} // namespace
} // namespace minivmm
