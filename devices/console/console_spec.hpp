// --console HOST_END: stdio, file=PATH or socket=PATH, parsed and checked (nothing opened).
#pragma once

#include <string>

#include "base/result.hpp"

namespace minivmm::console {

struct ConsoleSpec {
    enum class Kind { Stdio, File, Socket };
    Kind kind = Kind::Stdio;
    std::string path;   // File, Socket

    std::string text() const;   // as the option spells it
};

// ErrorCode::Usage for anything else, an empty PATH, or a socket PATH too long for sun_path.
Result<ConsoleSpec> parse_console_spec(const std::string& text);

} // namespace minivmm::console
