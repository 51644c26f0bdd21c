// HTTP/1.1 requests from the API socket's clients, read with Debian's http-parser (the parser
// Node.js used before llhttp: a state machine over the bytes, no allocation, no I/O of its own)
// and bounded here: the request line and headers, and the body, each have a limit, so a client
// cannot make minivmm hold more than a few tens of KiB for it. Trust boundary: everything a
// client sends is hostile until HttpRequestReader has accepted it (tests/fuzz/api_fuzz.cpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <http_parser.h>

namespace minivmm::api {

struct HttpLimits {
    size_t max_head_bytes = 8192;    // request line and headers together
    size_t max_body_bytes = 51200;   // the body (Firecracker's default payload limit too)
};

struct HttpRequest {
    std::string method;   // "GET", "PUT", ...
    std::string path;     // the URL's path, without a query
    std::string body;
    bool keep_alive = false;
    std::string query;    // after '?' up to a '#', as sent (not decoded); empty without one
};

// One connection's requests, in order. feed() the bytes as they come; Complete hands out one
// request (request()); next() then goes on with the bytes already read after it (pipelining).
class HttpRequestReader {
public:
    enum class Status { NeedMore, Complete, Error };

    explicit HttpRequestReader(HttpLimits limits = {});
    HttpRequestReader(const HttpRequestReader&) = delete;
    HttpRequestReader& operator=(const HttpRequestReader&) = delete;

    Status feed(std::string_view bytes);
    // After Complete: ready for the next request; parses what is already buffered.
    Status next();
    const HttpRequest& request() const { return request_; }
    // After Error: the status to answer with (400, 413) and why; the connection is then closed.
    int error_status() const { return error_status_; }
    const std::string& error_message() const { return error_message_; }

private:
    Status parse();
    bool over_head_limit(size_t more);
    static int on_message_begin(http_parser* p);
    static int on_url(http_parser* p, const char* at, size_t n);
    static int on_header_bytes(http_parser* p, const char* at, size_t n);
    static int on_headers_complete(http_parser* p);
    static int on_body(http_parser* p, const char* at, size_t n);
    static int on_message_complete(http_parser* p);

    HttpLimits limits_;
    http_parser parser_{};
    http_parser_settings settings_{};
    std::string buffered_;   // read and not yet parsed (after a complete request)
    std::string url_;
    size_t head_bytes_ = 0;
    bool complete_ = false;
    bool failed_ = false;
    HttpRequest request_;
    int error_status_ = 0;
    std::string error_message_;
};

// "HTTP/1.1 <status> <reason>" with the JSON body (none for 204) and Content-Length.
std::string format_response(int status, std::string_view body, bool keep_alive);
const char* reason_phrase(int status);

} // namespace minivmm::api
