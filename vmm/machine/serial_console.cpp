#include "machine/serial_console.hpp"

#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

#include "base/log.hpp"

namespace minivmm {

Result<std::unique_ptr<SerialConsole>> SerialConsole::open(const SerialConfig& config) {
    std::unique_ptr<SerialOutput> output;
    switch (config.kind) {
    case SerialConfig::Kind::Stdio: {
        if (::fcntl(STDOUT_FILENO, F_GETFD) < 0) {   // started with stdout closed
            output = SerialOutput::discard();
            break;
        }
        auto out = SerialOutput::for_fd(STDOUT_FILENO);
        if (!out) return out.error();
        output = std::move(*out);
        break;
    }
    case SerialConfig::Kind::File: {
        auto out = SerialOutput::open_file(config.path);
        if (!out) return out.error();
        output = std::move(*out);
        break;
    }
    case SerialConfig::Kind::None: output = SerialOutput::discard(); break;
    }
    auto buffer = SerialOutputBuffer::create(std::move(output));
    if (!buffer) return buffer.error();
    return std::unique_ptr<SerialConsole>(new SerialConsole(config, std::move(*buffer)));
}

Serial16550::OutputSink SerialConsole::sink() {
    return [out = output_](uint8_t byte) { out->put(byte); };
}

Result<void> SerialConsole::connect_input(EventLoop& loop, Serial16550& serial,
                                          std::function<void()> on_quit,
                                          std::function<void()> on_pause) {
    if (config_.kind != SerialConfig::Kind::Stdio) return {};
    if (::fcntl(STDIN_FILENO, F_GETFD) < 0) return {};   // started with stdin closed: no input
    auto terminal = TerminalGuard::make_raw(STDIN_FILENO);
    if (!terminal) return terminal.error();
    terminal_ = std::move(*terminal);
    SerialInput::Options options;
    options.escape = terminal_->active();   // Ctrl-a sequences only from a terminal
    options.on_quit = std::move(on_quit);
    options.on_pause = std::move(on_pause);
    auto input = SerialInput::create(loop, STDIN_FILENO, serial, std::move(options));
    if (!input) return input.error().with_context("serial input from stdin");
    input_ = std::move(*input);
    return {};
}

std::string SerialConsole::counters() const {
    return fmt::format("{} bytes out, {} dropped; {} bytes in", output_->written(),
                       output_->dropped(), input_ ? input_->bytes_read() : 0);
}

void SerialConsole::report(bool stats) const {
    if (output_->dropped() > 0)
        log(LogLevel::Warn, "serial: {} bytes of guest output dropped (output not writable)",
            output_->dropped());
    if (!stats) return;
    std::fprintf(stderr, "  serial: %llu bytes out, %llu dropped; %llu bytes in\n",
                 static_cast<unsigned long long>(output_->written()),
                 static_cast<unsigned long long>(output_->dropped()),
                 static_cast<unsigned long long>(input_ ? input_->bytes_read() : 0));
}

} // namespace minivmm
