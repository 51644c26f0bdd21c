// The host side of --net user and --net stream=PATH: passt started by minivmm on one end of a
// socketpair, or a connection to a unix socket a peer already listens on.
//
// passt (Debian package passt; QEMU's user-mode network since 7.2) runs in the foreground
// with --fd (the socket is its only link to us) and --one-off: when minivmm's end closes (its
// exit, a crash, a kill) passt exits too. It is put in its own process group so that a Ctrl-C
// on minivmm's terminal stops minivmm, which then closes the socket, rather than both at once.
// passt dying shows as the socket's end: the card's link goes down (NetDevice), never a hang.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

#include "base/result.hpp"
#include "base/unique_fd.hpp"
#include "net/net_spec.hpp"

namespace minivmm::net {

struct PasstProcess {
    pid_t pid = -1;
    UniqueFd socket;   // minivmm's end
};

// The arguments passt is started with (argv[0] "passt"), for `forwards` and `log_path` (empty:
// passt's messages go to minivmm's stderr).
std::vector<std::string> passt_arguments(const std::vector<HostForward>& forwards,
                                         const std::string& log_path, int fd);

// Starts passt; an error when it cannot be run (not installed: the message says so).
Result<PasstProcess> start_passt(const std::vector<HostForward>& forwards,
                                 const std::string& log_path);

// Connects to the unix stream socket at `path`.
Result<UniqueFd> connect_stream(const std::string& path);

} // namespace minivmm::net
