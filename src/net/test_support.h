// Helpers for net tests: X.509 certificates made on the fly with OpenSSL, raw loopback sockets
// (for clients that misbehave on purpose), and a server started on an ephemeral port.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/bytes.h"
#include "lunal/net/client.h"
#include "lunal/net/server.h"

namespace lunal::net::testing {

// A P-256 key and a certificate for it.
struct TestCert {
  std::string cert_pem;
  std::string key_pem;
  Bytes cert_der;
  std::array<std::uint8_t, 32> spki_sha256{};
};

// A self-signed CA certificate named `common_name`.
TestCert MakeCa(const std::string& common_name);
// A leaf signed by `issuer`, with SANs DNS:localhost and IP:127.0.0.1.
TestCert MakeLeaf(const std::string& common_name, const TestCert& issuer);

// A blocking TCP socket connected to 127.0.0.1:port, closed on destruction.
class RawSocket {
 public:
  explicit RawSocket(std::uint16_t port);  // check connected() afterwards
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends all of `data`; false on error (e.g. the server reset the connection).
  bool Send(std::string_view data);
  // Reads until what arrived ends with `marker`, the connection ends, or `timeout`.
  std::string ReadUntil(std::string_view marker, std::chrono::milliseconds timeout);
  // Reads until the server closes the connection, an error, or `timeout`. Sets *closed when the
  // connection ended (EOF or reset) within the timeout.
  std::string ReadUntilClosed(std::chrono::milliseconds timeout, bool* closed);

 private:
  int fd_ = -1;
};

// Whether a TCP connect to 127.0.0.1:port succeeds.
bool CanConnect(std::uint16_t port);

// Starts a server on 127.0.0.1:0, failing the current test when Start fails.
std::unique_ptr<HttpServer> StartServer(ServerOptions options, Router router);

// The routes most server tests use (counting handled requests in *handled when given):
//   GET /v1/things/{id}  JSON {id, remote, tls}      POST /echo   the body back as text
//   GET /boom            throws                      GET /split   an unsafe (CR/LF) header
//   GET /denied          PolicyViolation error body  GET /big     5000 bytes of text
//   GET /bye             Connection: close           GET /slow    answers after 500 ms
Router TestRouter(std::atomic<int>* handled = nullptr);

// Client options with short timeouts for loopback.
ClientOptions FastClient();

// Pieces of a raw HTTP/1.1 response: the status (0 if none), the body after the header, and the
// "reason" of a Lunal JSON error body.
int StatusOf(const std::string& raw);
std::string BodyOf(const std::string& raw);
std::string ReasonOf(const std::string& body);

// "http://127.0.0.1:<port><path>"
std::string LocalUrl(const HttpServer& server, const std::string& path, bool tls = false);

}  // namespace lunal::net::testing
