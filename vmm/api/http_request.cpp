#include "api/http_request.hpp"

#include <fmt/format.h>

namespace minivmm::api {

namespace {
HttpRequestReader& self(http_parser* p) { return *static_cast<HttpRequestReader*>(p->data); }
} // namespace

HttpRequestReader::HttpRequestReader(HttpLimits limits) : limits_(limits) {
    http_parser_init(&parser_, HTTP_REQUEST);
    parser_.data = this;
    http_parser_settings_init(&settings_);
    settings_.on_message_begin = on_message_begin;
    settings_.on_url = on_url;
    settings_.on_header_field = on_header_bytes;
    settings_.on_header_value = on_header_bytes;
    settings_.on_headers_complete = on_headers_complete;
    settings_.on_body = on_body;
    settings_.on_message_complete = on_message_complete;
}

bool HttpRequestReader::over_head_limit(size_t more) {
    head_bytes_ += more;
    if (head_bytes_ <= limits_.max_head_bytes) return false;
    error_status_ = 400;
    error_message_ = fmt::format("Request line and headers over {} bytes", limits_.max_head_bytes);
    return true;
}

int HttpRequestReader::on_message_begin(http_parser* p) {
    HttpRequestReader& r = self(p);
    r.request_ = {};
    r.url_.clear();
    r.head_bytes_ = 0;
    return 0;
}

int HttpRequestReader::on_url(http_parser* p, const char* at, size_t n) {
    HttpRequestReader& r = self(p);
    if (r.over_head_limit(n)) return 1;
    r.url_.append(at, n);
    return 0;
}

int HttpRequestReader::on_header_bytes(http_parser* p, const char*, size_t n) {
    return self(p).over_head_limit(n) ? 1 : 0;   // no header's value is used
}

int HttpRequestReader::on_headers_complete(http_parser* p) {
    HttpRequestReader& r = self(p);
    // Content-Length is known before the body: a body too large is refused unread.
    if (p->content_length != ULLONG_MAX && p->content_length > r.limits_.max_body_bytes) {
        r.error_status_ = 413;
        r.error_message_ = fmt::format("Request body over {} bytes", r.limits_.max_body_bytes);
        return -1;   // http-parser: any value but 0, 1 and 2 is an error
    }
    return 0;
}

int HttpRequestReader::on_body(http_parser* p, const char* at, size_t n) {
    HttpRequestReader& r = self(p);
    if (r.request_.body.size() + n > r.limits_.max_body_bytes) {   // chunked: counted as it comes
        r.error_status_ = 413;
        r.error_message_ = fmt::format("Request body over {} bytes", r.limits_.max_body_bytes);
        return 1;
    }
    r.request_.body.append(at, n);
    return 0;
}

int HttpRequestReader::on_message_complete(http_parser* p) {
    HttpRequestReader& r = self(p);
    r.request_.method = http_method_str(static_cast<http_method>(p->method));
    // An upgrade (CONNECT, Upgrade:) is not served: the answer closes the connection.
    r.request_.keep_alive = http_should_keep_alive(p) != 0 && p->upgrade == 0;
    const size_t query = r.url_.find_first_of("?#");
    r.request_.path = r.url_.substr(0, query);
    r.request_.query.clear();
    if (query != std::string::npos && r.url_[query] == '?')
        r.request_.query = r.url_.substr(query + 1, r.url_.find('#', query) - query - 1);
    r.complete_ = true;
    http_parser_pause(p, 1);   // one request at a time: the bytes after it wait in buffered_
    return 0;
}

HttpRequestReader::Status HttpRequestReader::parse() {
    // http_parser_execute with no bytes means the end of the stream: only call it with some.
    while (!buffered_.empty()) {
        const size_t used = http_parser_execute(&parser_, &settings_, buffered_.data(),
                                                buffered_.size());
        buffered_.erase(0, used);
        if (complete_) return Status::Complete;
        const auto error = HTTP_PARSER_ERRNO(&parser_);
        if (error != HPE_OK) {
            failed_ = true;
            if (error_status_ == 0) {
                error_status_ = 400;
                error_message_ = fmt::format("Malformed HTTP request: {}",
                                             http_errno_description(error));
            }
            return Status::Error;
        }
        if (used == 0) break;
    }
    return Status::NeedMore;
}

HttpRequestReader::Status HttpRequestReader::feed(std::string_view bytes) {
    if (failed_) return Status::Error;
    if (complete_) return Status::Complete;   // next() first
    buffered_.append(bytes);
    return parse();
}

HttpRequestReader::Status HttpRequestReader::next() {
    if (failed_) return Status::Error;
    complete_ = false;
    http_parser_pause(&parser_, 0);
    return parse();
}

const char* reason_phrase(int status) {
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 413: return "Payload Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

std::string format_response(int status, std::string_view body, bool keep_alive) {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\nServer: minivmm\r\nConnection: {}\r\n", status,
                                  reason_phrase(status), keep_alive ? "keep-alive" : "close");
    if (status != 204)
        out += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body.size());
    out += "\r\n";
    if (status != 204) out += body;
    return out;
}

} // namespace minivmm::api
