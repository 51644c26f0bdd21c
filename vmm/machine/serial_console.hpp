// SerialConsole: the host end of COM1 as --serial chose it: where guest output goes (stdout, a
// file, nowhere), where input comes from (stdin, read on the event-loop thread), and, when stdin
// is a terminal, raw mode with the Ctrl-a escape, restored on every way out (TerminalGuard).
#pragma once

#include <functional>
#include <memory>

#include "base/event_loop.hpp"
#include "base/terminal_guard.hpp"
#include "legacy/serial.hpp"
#include "legacy/serial_input.hpp"
#include "legacy/serial_output.hpp"
#include "legacy/serial_output_buffer.hpp"
#include "machine/config.hpp"

namespace minivmm {

class SerialConsole {
public:
    // Machine::create step 1, before /dev/kvm: opens the output (file:PATH errors name the file).
    static Result<std::unique_ptr<SerialConsole>> open(const SerialConfig& config);

    // The UART's output sink: appends to the output buffer (no system call per byte; never
    // blocks; drops and counts only what the host end cannot take).
    Serial16550::OutputSink sink();
    // Step 3: the loop thread writes the buffered output out (within a few ms of each byte).
    Result<void> connect_output(EventLoop& loop) { return output_->attach(loop); }
    // Writes out what the guest sent so far (before a state report on SIGUSR2).
    void flush() { output_->flush(); }
    // After the vCPUs and the loop stopped, before minivmm prints anything of its own at the
    // end: everything the guest sent, waiting a moment for a slow reader.
    void flush_at_exit() { output_->flush_at_exit(); }
    // Step 3: for stdio, reads stdin into `serial` on `loop`; if stdin is a terminal, makes it
    // raw and calls `on_quit` on Ctrl-a x and `on_pause` on Ctrl-a p (on the loop thread).
    Result<void> connect_input(EventLoop& loop, Serial16550& serial, std::function<void()> on_quit,
                               std::function<void()> on_pause);
    // After the run: a warning if output was dropped; the counters when `stats`.
    void report(bool stats) const;
    // "N bytes out, N dropped; N bytes in", for hang reports.
    std::string counters() const;

private:
    explicit SerialConsole(SerialConfig config, std::shared_ptr<SerialOutputBuffer> output)
        : config_(std::move(config)), output_(std::move(output)) {}

    SerialConfig config_;
    std::shared_ptr<SerialOutputBuffer> output_;
    std::unique_ptr<TerminalGuard> terminal_;   // restored after input_ stops (member order)
    std::unique_ptr<SerialInput> input_;
};

} // namespace minivmm
