// ControlChannel: commands into the main loop (Machine::run) from other threads: the console's
// Ctrl-a p on the I/O thread, the API thread's requests (vmm/api). post() queues a command and signals
// an eventfd the main loop polls; the main loop runs the commands in order and answers each.
// Signals reach the main loop through its signalfd and need no channel: a signal handler must
// not post (post takes a mutex and allocates, neither async-signal-safe).
#pragma once

#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/event_fd.hpp"
#include "base/result.hpp"
#include "machine/address_explainer.hpp"

namespace minivmm {

// Where a snapshot's two files go (PUT /snapshot/create, minivmm ctl SOCKET snapshot).
struct SnapshotPaths {
    std::string state;    // the state file (vmm/snapshot/snapshot_codec.hpp)
    std::string memory;   // the guest's RAM, raw
    bool operator==(const SnapshotPaths&) const = default;
};

// Which address to explain on which vCPU (GET /minivmm/translate, minivmm ctl SOCKET translate).
struct TranslateRequest {
    uint64_t gva = 0;
    uint32_t vcpu = 0;
    bool operator==(const TranslateRequest&) const = default;
};

struct Command {
    enum Kind {
        Pause,         // every vCPU parked, every device paused
        Resume,        // the reverse
        TogglePause,   // Ctrl-a p: whichever of the two applies
        ResetLine,     // the API's SendCtrlAltDel: the i8042 reset line pulsed, the VM ends
        Snapshot,      // paused only: the state and memory files written to `snapshot`
        Translate,     // the walk of `translate.gva` on its vCPU (the VM paused meanwhile)
    };
    Kind kind;
    SnapshotPaths snapshot;       // Snapshot only
    TranslateRequest translate;   // Translate only

    Command(Kind k) : kind(k) {}   // NOLINT: a plain command is its kind
    explicit Command(SnapshotPaths paths) : kind(Snapshot), snapshot(std::move(paths)) {}
    explicit Command(TranslateRequest t) : kind(Translate), translate(t) {}
    bool operator==(const Command&) const = default;
};

struct Reply {
    Reply() = default;
    Reply(bool ok_, std::string message_) : ok(ok_), message(std::move(message_)) {}

    bool ok = true;
    std::string message;   // one line: what happened, or why not
    std::optional<AddressExplanation> explanation;   // Translate, when ok
};

class ControlChannel {
public:
    static Result<std::unique_ptr<ControlChannel>> create();

    // From any thread but the main loop's own (it would wait for itself): the future is ready
    // once the main loop has run `command`. A caller that does not wait drops the future.
    // After close() the answer comes at once: the VM has stopped.
    std::future<Reply> post(Command command);
    // Readable while commands wait (for poll).
    int fd() const { return wake_.fd(); }
    // The main loop: runs every waiting command through `execute`, in order, and answers it.
    void run_pending(const std::function<Reply(const Command&)>& execute);
    // The VM has ended: the commands still waiting, and any posted later, are refused.
    void close();

    ControlChannel(const ControlChannel&) = delete;
    ControlChannel& operator=(const ControlChannel&) = delete;

private:
    explicit ControlChannel(EventFd wake) : wake_(std::move(wake)) {}

    struct Pending {
        Command command;
        std::promise<Reply> reply;
    };
    EventFd wake_;
    std::mutex mutex_;   // guards pending_ and closed_
    std::deque<Pending> pending_;
    bool closed_ = false;
};

} // namespace minivmm
