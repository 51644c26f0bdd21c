// ConsoleEscape: the escape sequences of the serial console on a terminal, as QEMU's: Ctrl-a x
// quits, Ctrl-a p pauses or resumes the VM, Ctrl-a Ctrl-a sends one Ctrl-a to the guest, Ctrl-a
// h (or ?) prints the help, Ctrl-a followed by anything else is dropped. Pure: it only
// classifies bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace minivmm {

class ConsoleEscape {
public:
    static constexpr uint8_t ESCAPE_CHAR = 0x01;   // Ctrl-a
    static constexpr const char* HELP =
        "minivmm console: C-a x  exit (code 130)\n"
        "                 C-a p  pause or resume the VM\n"
        "                 C-a C-a  send C-a to the guest\n"
        "                 C-a h  this help\n";

    enum class Action { Forward, Swallow, Quit, Help, Pause };
    // Classifies one input byte; Forward means "send this byte to the guest".
    Action feed(uint8_t byte);

    struct Filtered {
        size_t count = 0;    // bytes written to `out`
        bool quit = false;   // Ctrl-a x was seen: the bytes after it were not looked at
        bool help = false;   // Ctrl-a h was seen
        unsigned pauses = 0; // Ctrl-a p was seen this many times (each toggles)
    };
    // Filters `in` into `out` (which must hold at least in.size() bytes: never more come out).
    Filtered filter(std::span<const uint8_t> in, std::span<uint8_t> out);

    bool pending_escape() const { return escaped_; }

private:
    bool escaped_ = false;   // the previous byte was a lone Ctrl-a
};

} // namespace minivmm
