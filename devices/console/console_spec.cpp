// --console parsing (see console_spec.hpp).
#include "console/console_spec.hpp"

#include <fmt/format.h>
#include <sys/un.h>

namespace minivmm::console {

std::string ConsoleSpec::text() const {
    switch (kind) {
    case Kind::Stdio: return "stdio";
    case Kind::Stdout: return "stdout";
    case Kind::Stderr: return "stderr";
    case Kind::File: return "file=" + path;
    case Kind::Socket: return "socket=" + path;
    }
    return {};
}

Result<ConsoleSpec> parse_console_spec(const std::string& text) {
    ConsoleSpec spec;
    if (text == "stdio") return spec;
    if (text == "stdout" || text == "stderr") {
        spec.kind = text == "stdout" ? ConsoleSpec::Kind::Stdout : ConsoleSpec::Kind::Stderr;
        return spec;
    }
    for (auto [prefix, kind] : {std::pair{"file=", ConsoleSpec::Kind::File},
                                std::pair{"socket=", ConsoleSpec::Kind::Socket}}) {
        const std::string_view p = prefix;
        if (text.rfind(p, 0) != 0 || text.size() == p.size()) continue;
        spec.kind = kind;
        spec.path = text.substr(p.size());
        // sun_path holds the path and its terminating NUL.
        if (kind == ConsoleSpec::Kind::Socket && spec.path.size() >= sizeof(sockaddr_un{}.sun_path))
            return Error(ErrorCode::Usage,
                         fmt::format("--console: socket path {} is longer than {} bytes",
                                     spec.path, sizeof(sockaddr_un{}.sun_path) - 1));
        return spec;
    }
    return Error(ErrorCode::Usage,
                 fmt::format("--console '{}': expected stdio, stdout, stderr, file=PATH or socket=PATH", text));
}

} // namespace minivmm::console
