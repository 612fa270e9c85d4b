// HttpServer on the wire: routing, limits (413, 431, 400), interim responses, pipelining, HEAD,
// handler failures. Raw sockets where a well-behaved client could not produce the bytes.
#include "lunal/net/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>

#include "lunal/net/client.h"
#include "lunal/net/errors.h"
#include "test_support.h"

namespace lunal::net {
namespace {

using std::chrono::milliseconds;
using testing::BodyOf;
using testing::FastClient;
using testing::LocalUrl;
using testing::RawSocket;
using testing::ReasonOf;
using testing::StartServer;
using testing::StatusOf;
using testing::TestRouter;

TEST(HttpServerTest, GetAndPostThroughTheClient) {
  auto server = StartServer({}, TestRouter());
  HttpClient client(FastClient());
  Result<nlohmann::json> thing = client.SendJson("GET", LocalUrl(*server, "/v1/things/a%2Fb"));
  ASSERT_TRUE(thing.ok()) << thing.error().ToString();
  EXPECT_EQ((*thing)["id"], "a/b");
  EXPECT_EQ((*thing)["tls"], false);
  EXPECT_EQ((*thing)["remote"].get<std::string>().rfind("127.0.0.1:", 0), 0u);

  Result<HttpResponse> echo = client.Send({.method = "POST",
                                           .url = LocalUrl(*server, "/echo"),
                                           .headers = {{"Content-Type", "application/json"}},
                                           .body = R"({"k":1})"});
  ASSERT_TRUE(echo.ok()) << echo.error().ToString();
  EXPECT_EQ(echo->status, 200);
  EXPECT_EQ(echo->body, R"({"k":1})");
  EXPECT_EQ(echo->Header("X-Content-Type-Seen"), "application/json");
  EXPECT_EQ(echo->Header("Server"), "lunal");
  EXPECT_FALSE(echo->Header("Date").has_value());
}

// A socket bound and listening elsewhere (the node, for an instance in its own network
// namespace) is served as it is; a socket that is not listening is refused and closed.
TEST(HttpServerTest, ServesAnInheritedListeningSocket) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ServerOptions options;
  options.bind_address = "::1";  // ignored: the socket is already bound
  options.listen_fd = fd;
  HttpServer server(options, TestRouter());
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.port(), ntohs(addr.sin_port));
  HttpClient client(FastClient());
  auto thing = client.SendJson("GET", LocalUrl(server, "/v1/things/x"));
  ASSERT_TRUE(thing.ok()) << thing.error();
  EXPECT_EQ((*thing)["id"], "x");
  server.Stop(std::chrono::milliseconds(0));

  const int idle = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(idle, 0);
  ServerOptions bad;
  bad.listen_fd = idle;
  HttpServer refused(bad, TestRouter());
  Status s = refused.Start();
  EXPECT_EQ(s.reason(), "net.bad_options") << s;
  EXPECT_EQ(::fcntl(idle, F_GETFD), -1) << "the server owns the fd it was given";
}

TEST(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  auto server = StartServer({}, TestRouter());
  RawSocket socket(server->port());
  ASSERT_TRUE(socket.connected());
  ASSERT_TRUE(
      socket.Send("GET /v1/things/1 HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /v1/things/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  bool closed = false;
  std::string raw = socket.ReadUntilClosed(milliseconds(3000), &closed);
  EXPECT_TRUE(closed);
  std::size_t first = raw.find(R"("id":"1")");
  std::size_t second = raw.find(R"("id":"2")");
  ASSERT_NE(first, std::string::npos) << raw;
  ASSERT_NE(second, std::string::npos) << raw;
  EXPECT_LT(first, second);
}

TEST(HttpServerTest, BodyOverLimitByContentLengthIs413) {
  std::atomic<int> handled{0};
  ServerOptions options;
  options.max_body_bytes = 1024;
  auto server = StartServer(options, TestRouter(&handled));
  HttpClient client(FastClient());
  Result<HttpResponse> response = client.Send(
      {.method = "POST", .url = LocalUrl(*server, "/echo"), .body = std::string(4096, 'x')});
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->Header("Content-Type"), "application/json");
  EXPECT_EQ(ReasonOf(response->body), "http.body_too_large");
  // Exactly at the limit is fine.
  Result<HttpResponse> at_limit = client.Send(
      {.method = "POST", .url = LocalUrl(*server, "/echo"), .body = std::string(1024, 'x')});
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().ToString();
  EXPECT_EQ(at_limit->status, 200);

  // Up front: the header alone is enough, no body is ever sent.
  RawSocket socket(server->port());
  ASSERT_TRUE(socket.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"));
  bool closed = false;
  std::string raw = socket.ReadUntilClosed(milliseconds(3000), &closed);
  EXPECT_EQ(StatusOf(raw), 413) << raw;
  EXPECT_EQ(ReasonOf(BodyOf(raw)), "http.body_too_large");
  EXPECT_TRUE(closed);
  EXPECT_EQ(handled.load(), 1);  // only the at-limit request
}

std::string Chunked(std::size_t chunks, std::size_t chunk_size) {
  std::string out;
  char size_line[32];
  std::snprintf(size_line, sizeof(size_line), "%zx\r\n", chunk_size);
  for (std::size_t i = 0; i < chunks; ++i) out += size_line + std::string(chunk_size, 'c') + "\r\n";
  return out + "0\r\n\r\n";
}

TEST(HttpServerTest, ChunkedBodyIsReadAndLimited) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  auto server = StartServer(options, TestRouter());
  const std::string header =
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  {
    RawSocket socket(server->port());
    ASSERT_TRUE(socket.Send(header + Chunked(4, 256)));  // exactly 1024
    bool closed = false;
    std::string raw = socket.ReadUntilClosed(milliseconds(3000), &closed);
    EXPECT_EQ(StatusOf(raw), 200) << raw;
    EXPECT_EQ(BodyOf(raw), std::string(1024, 'c'));
  }
  {
    RawSocket socket(server->port());
    ASSERT_TRUE(socket.Send(header + Chunked(16, 256)));  // grows past the limit
    bool closed = false;
    std::string raw = socket.ReadUntilClosed(milliseconds(3000), &closed);
    EXPECT_EQ(StatusOf(raw), 413) << raw;
    EXPECT_EQ(ReasonOf(BodyOf(raw)), "http.body_too_large");
    EXPECT_TRUE(closed);
  }
}

TEST(HttpServerTest, HeaderOverLimitIs431AndGarbageIs400) {
  ServerOptions options;
  options.max_header_bytes = 4096;
  auto server = StartServer(options, TestRouter());
  {
    RawSocket socket(server->port());
    ASSERT_TRUE(socket.Send(
        "GET /v1/things/1 HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8192, 'h') + "\r\n\r\n"));
    bool closed = false;
    std::string raw = socket.ReadUntilClosed(milliseconds(3000), &closed);
    EXPECT_EQ(StatusOf(raw), 431) << raw;
    EXPECT_EQ(ReasonOf(BodyOf(raw)), "http.header_too_large");
  }
  {
    RawSocket socket(server->port());
    ASSERT_TRUE(socket.Send("THIS IS NOT HTTP\r\n\r\n"));
    bool closed = false;
    std::string raw = socket.ReadUntilClosed(milliseconds(3000), &closed);
    EXPECT_EQ(StatusOf(raw), 400) << raw;
    EXPECT_EQ(ReasonOf(BodyOf(raw)), "http.bad_request");
  }
}

TEST(HttpServerTest, ExpectContinueGetsInterimResponse) {
  auto server = StartServer({}, TestRouter());
  RawSocket socket(server->port());
  ASSERT_TRUE(
      socket.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                  "Expect: 100-continue\r\nConnection: close\r\n\r\n"));
  std::string interim = socket.ReadUntil("\r\n\r\n", milliseconds(3000));
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  bool closed = false;
  ASSERT_TRUE(socket.Send("hello"));
  std::string raw = socket.ReadUntilClosed(milliseconds(3000), &closed);
  EXPECT_EQ(StatusOf(raw), 200) << raw;
  EXPECT_EQ(BodyOf(raw), "hello");
}

TEST(HttpServerTest, HandlerFailuresBecomeGeneric500AndServerKeepsServing) {
  std::atomic<int> hook_calls{0};
  ServerOptions options;
  options.on_internal_error = [&hook_calls](const HttpRequest&, const Status&) {
    hook_calls.fetch_add(1);
  };
  auto server = StartServer(options, TestRouter());
  HttpClient client(FastClient());
  for (const char* path : {"/boom", "/split"}) {
    SCOPED_TRACE(path);
    Result<HttpResponse> response = client.Send({.url = LocalUrl(*server, path)});
    ASSERT_TRUE(response.ok()) << response.error().ToString();
    EXPECT_EQ(response->status, 500);
    EXPECT_EQ(ReasonOf(response->body), "internal");
    EXPECT_EQ(response->body.find("secret-detail"), std::string::npos);
    EXPECT_FALSE(response->Header("Set-Cookie").has_value());
  }
  EXPECT_EQ(hook_calls.load(), 2);
  Result<HttpResponse> after = client.Send({.url = LocalUrl(*server, "/v1/things/ok")});
  ASSERT_TRUE(after.ok()) << after.error().ToString();
  EXPECT_EQ(after->status, 200);
}

TEST(HttpServerTest, HeadSendsLengthButNoBody) {
  auto server = StartServer({}, TestRouter());
  HttpClient client(FastClient());
  Result<HttpResponse> head = client.Send({.method = "HEAD", .url = LocalUrl(*server, "/big")});
  ASSERT_TRUE(head.ok()) << head.error().ToString();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("Content-Length"), "5000");
  EXPECT_EQ(head->body, "");
  // The connection is still in sync for the next request.
  Result<HttpResponse> get = client.Send({.url = LocalUrl(*server, "/big")});
  ASSERT_TRUE(get.ok()) << get.error().ToString();
  EXPECT_EQ(get->body.size(), 5000u);
  EXPECT_EQ(server->stats().accepted_connections, 1u);
}

}  // namespace
}  // namespace lunal::net
