// minivmm ctl SOCKET pause|resume|stop|status|snapshot DIR|snapshot STATE MEM|translate GVA:
// a client of the management API for people. It sends one request (Connection: close) and
// prints the answer: status prints the InstanceInfo, translate the walk, the others what
// happened; a refusal prints the API's fault_message on stderr.
// stop is PUT /actions SendCtrlAltDel: minivmm ends the VM as a guest reboot would (README,
// "Managing a VM"). snapshot is PUT /snapshot/create (a paused VM; the paths are made absolute
// here, since minivmm may run in another directory). translate is GET /minivmm/translate (the
// walk of a guest virtual address, printed as the paging demo prints it). Exit codes: 0 done,
// 1 the API refused, 2 usage, 5 no answer.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>
#include <http_parser.h>
#include <nlohmann/json.hpp>

#include "api/translate_query.hpp"
#include "base/unique_fd.hpp"
#include "cli/run.hpp"
#include "machine/outcome.hpp"

namespace minivmm {

namespace {

constexpr const char* USAGE =
    "usage: minivmm ctl SOCKET pause|resume|stop|status\n"
    "       minivmm ctl SOCKET snapshot DIR   (the VM paused: DIR/vm.state, DIR/vm.mem)\n"
    "       minivmm ctl SOCKET snapshot STATE_FILE MEMORY_FILE\n"
    "       minivmm ctl SOCKET translate GVA [--vcpu N]   (GVA in hex: the walk to host memory)\n";

// `path` relative to this process's directory made absolute (minivmm resolves it in its own).
std::string absolute(const std::string& path) {
    if (!path.empty() && path[0] == '/') return path;
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return path;
    return std::string(cwd) + "/" + path;
}
constexpr size_t MAX_ANSWER = 1 << 20;

// `text` safe in a URL's query: unreserved characters as they are, every other byte as %XX
// (minivmm then refuses it as a bad number, with its message).
std::string percent_encoded(std::string_view text) {
    std::string s;
    for (char c : text) {
        const bool plain = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        s += plain ? std::string(1, c) : fmt::format("%{:02X}", static_cast<uint8_t>(c));
    }
    return s;
}

struct Answer {
    int status = 0;
    std::string body;
};

// The answer's status and body, read with http-parser as the server reads requests.
bool parse_answer(const std::string& bytes, Answer& out) {
    http_parser parser;
    http_parser_init(&parser, HTTP_RESPONSE);
    parser.data = &out;
    http_parser_settings settings;
    http_parser_settings_init(&settings);
    settings.on_body = [](http_parser* p, const char* at, size_t n) {
        static_cast<Answer*>(p->data)->body.append(at, n);
        return 0;
    };
    size_t used = http_parser_execute(&parser, &settings, bytes.data(), bytes.size());
    (void)http_parser_execute(&parser, &settings, nullptr, 0);   // the end of the stream
    out.status = static_cast<int>(parser.status_code);
    return used == bytes.size() && out.status != 0;
}

bool request(const std::string& socket_path, std::string_view method, std::string_view path,
             const std::string& body, Answer& answer) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path) {
        std::fprintf(stderr, "minivmm ctl: socket path too long: %s\n", socket_path.c_str());
        return false;
    }
    std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0 ||
        ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        std::fprintf(stderr, "minivmm ctl: cannot connect to %s: %s\n", socket_path.c_str(),
                     std::strerror(errno));
        return false;
    }
    std::string out = std::string(method) + " " + std::string(path) +
                      " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    if (!body.empty())
        out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n";
    out += "\r\n" + body;
    for (size_t done = 0; done < out.size();) {
        ssize_t n = ::write(fd.get(), out.data() + done, out.size() - done);
        if (n <= 0) {
            std::fprintf(stderr, "minivmm ctl: write to %s: %s\n", socket_path.c_str(),
                         std::strerror(errno));
            return false;
        }
        done += static_cast<size_t>(n);
    }
    std::string in;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd.get(), buf, sizeof buf)) > 0 && in.size() < MAX_ANSWER)
        in.append(buf, static_cast<size_t>(n));
    if (!parse_answer(in, answer)) {
        std::fprintf(stderr, "minivmm ctl: no valid HTTP answer from %s\n", socket_path.c_str());
        return false;
    }
    return true;
}

} // namespace

int ctl_main(int argc, char** argv) {
    const std::string_view command = argc >= 2 ? argv[1] : "";
    const bool args_ok = command == "snapshot"    ? argc == 3 || argc == 4
                         : command == "translate" ? argc == 3 || argc == 5
                                                  : argc == 2;
    if (!args_ok) {
        std::fputs(USAGE, stderr);
        return exit_code::USAGE;
    }
    const std::string socket = argv[0];
    std::string method = "PATCH", path = "/vm", body, done;
    if (command == "snapshot") {
        method = "PUT";
        path = "/snapshot/create";
        std::string state = absolute(argv[2]), memory;
        if (argc == 3) {   // a directory, made here (the client; minivmm itself only creates files)
            const std::string dir = state;
            if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
                std::fprintf(stderr, "minivmm ctl: cannot make %s: %s\n", dir.c_str(),
                             std::strerror(errno));
                return exit_code::USAGE;
            }
            state = dir + "/" + SNAPSHOT_STATE_NAME;
            memory = dir + "/" + SNAPSHOT_MEMORY_NAME;
        } else {
            memory = absolute(argv[3]);
        }
        const nlohmann::json j = {{"snapshot_type", "Full"},
                                  {"snapshot_path", state},
                                  {"mem_file_path", memory}};
        body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        done = "snapshot written";
    } else if (command == "pause") {
        body = R"({"state":"Paused"})";
        done = "paused";
    } else if (command == "resume") {
        body = R"({"state":"Resumed"})";
        done = "resumed";
    } else if (command == "stop") {
        method = "PUT";
        path = "/actions";
        body = R"({"action_type":"SendCtrlAltDel"})";
        done = "stopped (SendCtrlAltDel: the VM ends)";
    } else if (command == "status") {
        method = "GET";
        path = "/";
    } else if (command == "translate") {
        // Checked here as minivmm checks it, so a typo is a usage error, not a refusal.
        auto gva = api::parse_gva(argv[2]);
        const bool vcpu_ok = argc == 3 || std::string_view(argv[3]) == "--vcpu";
        if (!gva || !vcpu_ok) {
            std::fputs(USAGE, stderr);
            return exit_code::USAGE;
        }
        method = "GET";
        path = fmt::format("/minivmm/translate?gva={:#x}", *gva);
        if (argc == 5) path += "&vcpu=" + percent_encoded(argv[4]);
    } else {
        std::fputs(USAGE, stderr);
        return exit_code::USAGE;
    }
    Answer answer;
    if (!request(socket, method, path, body, answer)) return exit_code::HOST;
    auto json = nlohmann::json::parse(answer.body, nullptr, false);
    if (answer.status >= 300) {
        std::string why = answer.body;
        if (json.is_object() && json.contains("fault_message") && json["fault_message"].is_string())
            why = json["fault_message"].get<std::string>();
        std::fprintf(stderr, "minivmm ctl: %s refused (HTTP %d): %s\n", std::string(command).c_str(),
                     answer.status, why.c_str());
        return 1;
    }
    if (command == "translate") {
        if (!json.is_object() || !json.contains("explanation") || !json["explanation"].is_string()) {
            std::fprintf(stderr, "minivmm ctl: no explanation in the answer: %s\n",
                         answer.body.c_str());
            return exit_code::HOST;
        }
        std::fputs(json["explanation"].get<std::string>().c_str(), stdout);
    } else if (command == "status") {
        if (json.is_discarded()) {
            std::fprintf(stderr, "minivmm ctl: the status is not JSON: %s\n", answer.body.c_str());
            return exit_code::HOST;
        }
        std::puts(json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
        std::puts(done.c_str());
    }
    return 0;
}

} // namespace minivmm
