// "Every fd is close-on-exec", checked where it can be checked without a VM:
// every call in minivmm's sources that creates a file descriptor asks for close-on-exec in the
// same statement (O_CLOEXEC, EFD_CLOEXEC, EPOLL_CLOEXEC, SFD_CLOEXEC, SOCK_CLOEXEC,
// MFD_CLOEXEC, TFD_CLOEXEC, F_DUPFD_CLOEXEC, fopen's "e"). The descriptors KVM hands out
// (KVM_CREATE_VM, KVM_CREATE_VCPU) are close-on-exec by the kernel. A new call without it fails
// here with the file and line.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

// A global or unqualified call (not Foo::open, obj.open, ptr->open) of a descriptor-creating
// function.
const std::regex FD_CALL(
    R"((^|[^\w:.>])(::)?(open|openat|creat|socket|socketpair|accept|accept4|eventfd|epoll_create|epoll_create1|signalfd|timerfd_create|memfd_create|pipe|pipe2|dup|dup3|inotify_init1?|fopen)\s*\()");

std::string without_comments(const std::string& text) {
    std::string out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        auto c = line.find("//");
        out += (c == std::string::npos ? line : line.substr(0, c)) + "\n";
    }
    return out;
}

TEST(Cloexec, EveryDescriptorCreatedInTheSourcesIsCloseOnExec) {
    int calls = 0;
    for (const char* dir : {"vmm", "devices", "firmware"}) {
        for (const auto& e : fs::recursive_directory_iterator(fs::path(MINIVMM_SOURCE_DIR) / dir)) {
            // Sources only: headers declare members named open() ("static Result<Kvm> open(").
            if (e.path().extension() != ".cpp") continue;
            std::ifstream in(e.path());
            std::string text = without_comments(
                {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()});
            for (std::sregex_iterator m(text.begin(), text.end(), FD_CALL), end; m != end; ++m) {
                size_t at = static_cast<size_t>(m->position(0));
                size_t stop = text.find(';', at);
                std::string statement = text.substr(at, stop == std::string::npos ? 200 : stop - at);
                if ((*m)[3] == "dup" && statement.find("dup(") != std::string::npos) {
                    ADD_FAILURE() << e.path() << ": dup() cannot set close-on-exec; use "
                                  << "fcntl(F_DUPFD_CLOEXEC):\n" << statement;
                    continue;
                }
                ++calls;
                bool fopen_e = (*m)[3] == "fopen" && std::regex_search(statement, std::regex(R"(,\s*"[rwa]\+?e)"));
                size_t line = static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n')) + 1;
                EXPECT_TRUE(statement.find("CLOEXEC") != std::string::npos || fopen_e)
                    << e.path().string() << ":" << line << " creates a descriptor without "
                    << "close-on-exec:\n" << statement;
            }
        }
    }
    // The sources do create descriptors (files, eventfd, epoll, signalfd, memfd): the scan found
    // them, so it is not passing by looking at nothing.
    EXPECT_GE(calls, 5);
}

} // namespace
