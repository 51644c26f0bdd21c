#include "legacy/console_escape.hpp"

namespace minivmm {

ConsoleEscape::Action ConsoleEscape::feed(uint8_t byte) {
    if (!escaped_) {
        if (byte == ESCAPE_CHAR) {
            escaped_ = true;
            return Action::Swallow;
        }
        return Action::Forward;
    }
    escaped_ = false;
    switch (byte) {
    case ESCAPE_CHAR: return Action::Forward;   // Ctrl-a Ctrl-a: one Ctrl-a for the guest
    case 'x':
    case 'X': return Action::Quit;
    case 'p':
    case 'P': return Action::Pause;
    case 'h':
    case 'H':
    case '?': return Action::Help;
    default: return Action::Swallow;   // unknown command: dropped, as QEMU does
    }
}

ConsoleEscape::Filtered ConsoleEscape::filter(std::span<const uint8_t> in, std::span<uint8_t> out) {
    Filtered result;
    for (uint8_t byte : in) {
        switch (feed(byte)) {
        case Action::Forward:
            if (result.count < out.size()) out[result.count++] = byte;
            break;
        case Action::Swallow: break;
        case Action::Help: result.help = true; break;
        case Action::Pause: ++result.pauses; break;
        case Action::Quit: result.quit = true; return result;
        }
    }
    return result;
}

} // namespace minivmm
