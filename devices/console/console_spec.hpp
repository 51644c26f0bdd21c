// --console HOST_END: stdio, stdout, stderr, file=PATH or socket=PATH, parsed and checked
// (nothing opened).
#pragma once

#include <string>

#include "base/result.hpp"

namespace minivmm::console {

struct ConsoleSpec {
    // Stdout and Stderr: output only, to minivmm's own (the command runner's hvc0 and hvc1).
    enum class Kind { Stdio, Stdout, Stderr, File, Socket };
    Kind kind = Kind::Stdio;
    std::string path;   // File, Socket

    std::string text() const;   // as the option spells it
};

// ErrorCode::Usage for anything else, an empty PATH, or a socket PATH too long for sun_path.
Result<ConsoleSpec> parse_console_spec(const std::string& text);

} // namespace minivmm::console
