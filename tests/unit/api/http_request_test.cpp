// HttpRequestReader on what a client may send: requests whole, byte by byte and pipelined, and
// hostile ones (oversized heads and bodies, chunked bodies past the limit, garbage, bad methods).
#include "api/http_request.hpp"

#include <gtest/gtest.h>

namespace minivmm::api {
namespace {

using Status = HttpRequestReader::Status;

TEST(HttpRequest, AGetIsReadWithItsPathAndKeepAlive) {
    HttpRequestReader r;
    ASSERT_EQ(r.feed("GET /vm/config?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n"), Status::Complete);
    EXPECT_EQ(r.request().method, "GET");
    EXPECT_EQ(r.request().path, "/vm/config");
    EXPECT_EQ(r.request().query, "x=1");
    EXPECT_EQ(r.request().body, "");
    EXPECT_TRUE(r.request().keep_alive);
}

TEST(HttpRequest, TheQueryEndsAtAFragmentAndIsEmptyWithoutOne) {
    HttpRequestReader r;
    ASSERT_EQ(r.feed("GET /minivmm/translate?gva=0x10&vcpu=1#top HTTP/1.1\r\n\r\n"
                     "GET /minivmm/translate HTTP/1.1\r\n\r\n"),
              Status::Complete);
    EXPECT_EQ(r.request().path, "/minivmm/translate");
    EXPECT_EQ(r.request().query, "gva=0x10&vcpu=1");
    ASSERT_EQ(r.next(), Status::Complete);
    EXPECT_EQ(r.request().query, "") << "a query must not outlive its request";
}

TEST(HttpRequest, APutFedByteByByteKeepsItsBody) {
    const std::string text = "PUT /actions HTTP/1.1\r\nContent-Length: 32\r\n\r\n"
                             "{\"action_type\": \"InstanceStart\"}";
    HttpRequestReader r;
    for (size_t i = 0; i + 1 < text.size(); ++i) ASSERT_EQ(r.feed(text.substr(i, 1)), Status::NeedMore) << i;
    ASSERT_EQ(r.feed(text.substr(text.size() - 1)), Status::Complete);
    EXPECT_EQ(r.request().method, "PUT");
    EXPECT_EQ(r.request().body, "{\"action_type\": \"InstanceStart\"}");
}

TEST(HttpRequest, PipelinedRequestsComeOneAtATime) {
    HttpRequestReader r;
    ASSERT_EQ(r.feed("GET / HTTP/1.1\r\n\r\nPATCH /vm HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
                     "GET /x HTTP/1.1\r\n"),
              Status::Complete);
    EXPECT_EQ(r.request().path, "/");
    ASSERT_EQ(r.next(), Status::Complete);
    EXPECT_EQ(r.request().method, "PATCH");
    EXPECT_EQ(r.request().body, "{}");
    ASSERT_EQ(r.next(), Status::NeedMore);
    ASSERT_EQ(r.feed("\r\n"), Status::Complete);
    EXPECT_EQ(r.request().path, "/x");
}

TEST(HttpRequest, ConnectionCloseAndHttp10EndTheConnection) {
    HttpRequestReader a;
    ASSERT_EQ(a.feed("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), Status::Complete);
    EXPECT_FALSE(a.request().keep_alive);
    HttpRequestReader b;
    ASSERT_EQ(b.feed("GET / HTTP/1.0\r\n\r\n"), Status::Complete);
    EXPECT_FALSE(b.request().keep_alive);
}

TEST(HttpRequest, ADeclaredBodyOverTheLimitIsRefusedUnread) {
    HttpRequestReader r(HttpLimits{8192, 100});
    ASSERT_EQ(r.feed("PUT /actions HTTP/1.1\r\nContent-Length: 101\r\n\r\n"), Status::Error);
    EXPECT_EQ(r.error_status(), 413);
    EXPECT_NE(r.error_message().find("100 bytes"), std::string::npos);
    EXPECT_EQ(r.feed("more"), Status::Error);   // stays failed
}

TEST(HttpRequest, AChunkedBodyIsCountedAsItComes) {
    HttpRequestReader r(HttpLimits{8192, 10});
    ASSERT_EQ(r.feed("PUT /actions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n"),
              Status::NeedMore);
    ASSERT_EQ(r.feed("8\r\n12345678\r\n0\r\n\r\n"), Status::Error);
    EXPECT_EQ(r.error_status(), 413);
}

TEST(HttpRequest, HeadersOverTheLimitAreRefused) {
    HttpRequestReader r(HttpLimits{256, 100});
    std::string text = "GET / HTTP/1.1\r\nX-Long: " + std::string(300, 'a');
    ASSERT_EQ(r.feed(text), Status::Error);
    EXPECT_EQ(r.error_status(), 400);
    HttpRequestReader many(HttpLimits{256, 100});
    Status s = many.feed("GET / HTTP/1.1\r\n");
    for (int i = 0; i < 1000 && s == Status::NeedMore; ++i) s = many.feed("A: b\r\n");
    EXPECT_EQ(s, Status::Error);   // many short headers add up
    HttpRequestReader url(HttpLimits{256, 100});
    EXPECT_EQ(url.feed("GET /" + std::string(1000, 'x')), Status::Error);
}

TEST(HttpRequest, GarbageAndUnknownMethodsAreBadRequests) {
    for (std::string text : {std::string("\x00\x01\x02 / HTTP/1.1\r\n\r\n", 18),
                             std::string("FOO / HTTP/1.1\r\n\r\n"),
                             std::string("GET / HTTP/9\r\n\r\n"),
                             std::string("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
                             std::string("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
                             std::string("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")}) {
        HttpRequestReader r;
        EXPECT_EQ(r.feed(text), Status::Error) << text;
        EXPECT_EQ(r.error_status(), 400) << text;
        EXPECT_FALSE(r.error_message().empty());
    }
}

TEST(HttpRequest, ResponsesCarryLengthAndNoBodyFor204) {
    EXPECT_EQ(format_response(204, "", true),
              "HTTP/1.1 204 No Content\r\nServer: minivmm\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(format_response(400, "{}", false),
              "HTTP/1.1 400 Bad Request\r\nServer: minivmm\r\nConnection: close\r\n"
              "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
}

} // namespace
} // namespace minivmm::api
