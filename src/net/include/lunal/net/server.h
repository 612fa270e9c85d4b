// HttpServer: an HTTP/1.1 server (optionally TLS, optionally mutual TLS) with a path router.
//
//   Router router;
//   LUNAL_RETURN_IF_ERROR(router.Add("GET", "/v1/things/{id}", [](HttpRequest& req) {
//     return HttpResponse::Json(200, {{"id", req.PathParam("id")}});
//   }));
//   HttpServer server(ServerOptions{.port = 8080}, std::move(router));
//   LUNAL_RETURN_IF_ERROR(server.Start());
//   ...
//   server.Stop(std::chrono::seconds(5));
//
// Handlers run synchronously on one of the server's I/O threads (ServerOptions::threads). A handler
// that blocks holds up every connection served by that thread: keep handlers short, or raise
// `threads`. Handlers may run concurrently with each other when threads > 1. A handler that throws
// is answered with a 500 (reason "internal"); the server never dies from a handler.
//
// Limits answer with Lunal's JSON error body (errors.h): a body over max_body_bytes gets 413
// "http.body_too_large" (checked against Content-Length before reading, and while reading a
// chunked body), a header block over max_header_bytes gets 431 "http.header_too_large", an
// unparsable request gets 400 "http.bad_request"; each closes the connection after the response.
// A request not complete within read_timeout has its connection closed without a response.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/status.h"
#include "lunal/net/http.h"
#include "lunal/net/tls_credentials.h"

namespace lunal::net {

using Handler = std::function<HttpResponse(HttpRequest&)>;

// Called with the request and the real status whenever the server answers "internal" (a handler
// threw, or returned a response the server cannot send), so the owner can log what the client
// never sees. Runs on an I/O thread; must not throw.
using InternalErrorHook = std::function<void(const HttpRequest&, const Status&)>;

// Called once for every response the server sends: a handler's, and the server's own (404 / 405
// from the router, 400 / 413 / 431 from the request reader), after it is built and before it is
// written. `method` and `path` are empty when the request line was never read. For counting
// (metrics), so a limit hit before any handler ran is still seen. Runs on an I/O thread; must not
// throw; keep it cheap.
using ResponseHook =
    std::function<void(std::string_view method, std::string_view path, int status)>;

// Maps (method, path) to handlers. Fill it before handing it to an HttpServer; after that it is
// only read, so concurrent Dispatch calls are safe.
class Router {
 public:
  // Registers `handler` for `method` (exact, case-sensitive) and `pattern`: an absolute path whose
  // segments are literals or "{name}", which matches exactly one non-empty segment and is
  // delivered percent-decoded in HttpRequest::path_params. Where several patterns match, the one
  // with a literal at the first segment where they differ wins ("/things/new" beats
  // "/things/{id}"). A GET route also answers HEAD (without the body).
  // Errors: InvalidArgument "net.bad_route" (pattern not absolute, empty or duplicate parameter
  // name, method not a token), Conflict "net.route_conflict" (same method and pattern shape).
  Status Add(std::string method, std::string_view pattern, Handler handler);

  // Where no route matches the path under any method, `handler` answers instead of the 404
  // (a reverse proxy's catch-all). It sees the parsed path and query and no path_params; a 405
  // for a path that matches under other methods is still the router's.
  void SetFallback(Handler handler) { fallback_ = std::move(handler); }

  // Parses request.target into path, query and path_params, runs the matching handler and returns
  // its response. Without a match: 404 "http.not_found", or 405 "http.method_not_allowed" with an
  // Allow header when the path matches under other methods; 400 "http.bad_target" for a target
  // that is not an absolute path or has a bad percent escape. Never throws; a throwing handler
  // becomes a 500 and `on_internal_error` (if set) sees the exception text.
  HttpResponse Dispatch(HttpRequest& request,
                        const InternalErrorHook& on_internal_error = nullptr) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // literal segments, or "{name}"
    Handler handler;
  };
  std::vector<Route> routes_;
  Handler fallback_;
};

// TLS for the server: TLS 1.2 and 1.3 only (1.3 preferred by negotiation), forward-secret AEAD
// suites only for 1.2.
struct TlsServerOptions {
  std::string cert_chain_pem{};   // the server certificate first, then any intermediates
  std::string private_key_pem{};  // its key (unencrypted PEM)
  // When set, clients are asked for a certificate, which must chain to one of these CAs; a client
  // that presents a bad one fails the handshake. The verified leaf reaches the handler as
  // HttpRequest::peer_certificate_der.
  std::optional<std::string> client_ca_pem{};
  // Fail the handshake when the client presents no certificate. Requires client_ca_pem.
  bool require_client_cert = false;
  // Replaceable credentials (tls_credentials.h): when set, each handshake presents their current
  // chain and key, and cert_chain_pem / private_key_pem must be empty.
  std::shared_ptr<TlsCredentials> credentials{};
  // Caller-supplied client verification (tls_credentials.h): when set, a client certificate is
  // required and judged by this hook alone; client_ca_pem must be unset. Session resumption is
  // turned off so that every connection is judged afresh.
  PeerVerifier verify_client{};
  // Refuse TLS 1.2 (TLS 1.3 only, RFC 8446).
  bool tls13_only = false;
  // Called with the client's address and why, whenever a handshake fails: the PeerVerifier's own
  // status when it refused; Unauthenticated "net.tls_no_peer_certificate" when a required client
  // certificate was missing; Unavailable "net.tls_handshake_failed" otherwise (timeouts and
  // clients that went away included). Runs on an I/O thread; must not throw.
  std::function<void(std::string_view remote_address, const Status& why)> on_handshake_failed{};
};

struct ServerOptions {
  std::string bind_address = "127.0.0.1";  // an IPv4 or IPv6 literal
  std::uint16_t port = 0;                  // 0: an ephemeral port, see HttpServer::port()
  // An inherited socket that is already bound and listening (TCP, IPv4 or IPv6), used instead of
  // bind_address/port: how an instance agent in its own network namespace serves on a port the
  // node opened in the host's. Once the other options pass their checks Start owns it (and
  // closes it if it cannot serve on it); -1: none.
  int listen_fd = -1;
  int threads = 1;  // I/O threads running handlers, 1..256
  std::size_t max_body_bytes = std::size_t{1} << 20;
  std::size_t max_header_bytes = std::size_t{16} << 10;
  // From the first byte of a request (or accept, for the first one) to its last byte, TLS
  // handshake included.
  std::chrono::milliseconds read_timeout{10'000};
  // How long a kept-alive connection may wait for the first byte of its next request.
  std::chrono::milliseconds idle_timeout{60'000};
  // For writing one response.
  std::chrono::milliseconds write_timeout{10'000};
  std::string server_header = "lunal";  // the Server header; empty: none
  std::optional<TlsServerOptions> tls{};
  InternalErrorHook on_internal_error{};
  ResponseHook on_response{};
};

struct ServerStats {
  std::uint64_t accepted_connections = 0;
  std::uint64_t requests_served = 0;  // responses sent (counted as writing starts), errors too
  std::uint64_t active_connections = 0;
};

// Thread-safety: Start, Stop and the destructor are called from one owning thread, never from a
// handler. port() and stats() may be called from any thread.
class HttpServer {
 public:
  HttpServer(ServerOptions options, Router router);
  ~HttpServer();  // Stop(0ms)
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Validates the options, binds, listens and starts the I/O threads. Errors: InvalidArgument
  // "net.bad_options" or "net.tls_config" (unreadable PEM, key not matching the certificate),
  // Unavailable "net.bind_failed" (names the address), Conflict "net.server_state" when called
  // twice or after Stop.
  Status Start();

  // Graceful shutdown: stops accepting at once and closes connections waiting idle between
  // requests; requests already being read or handled complete, and their responses carry
  // Connection: close. After `grace`, whatever is left is closed and responses not yet written are
  // dropped. Returns when the I/O threads have exited, which waits for handlers still running (a
  // handler cannot be interrupted). Idempotent; a server that never started just becomes stopped.
  void Stop(std::chrono::milliseconds grace);

  // The bound port after a successful Start (the ephemeral one when options.port was 0), kept
  // after Stop for logging; 0 before a successful Start.
  std::uint16_t port() const;
  ServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lunal::net
