// HttpClient: a blocking HTTP/1.1 client (optionally TLS) for the CLI and service-to-service calls.
//
//   HttpClient client({.request_timeout = std::chrono::seconds(10)});
//   LUNAL_ASSIGN_OR_RETURN(nlohmann::json things,
//                          client.SendJson("GET", "http://127.0.0.1:8080/v1/things"));
//
// Connections are kept alive and reused, one per (scheme, host, port). When a reused connection
// turns out to have been closed by the server before any byte of the response arrived (a stale
// keep-alive), the request is sent once more on a fresh connection; this can repeat a request the
// server never saw, never one it answered.
//
// Thread-safety: none. Use one HttpClient per thread.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "lunal/common/result.h"
#include "lunal/net/http.h"
#include "lunal/net/tls_credentials.h"

namespace lunal::net {

// An http or https URL, split for connecting.
struct Url {
  std::string scheme;  // "http" or "https" (lower case)
  std::string host;    // lower-cased name, IPv4 literal, or IPv6 literal without brackets
  std::uint16_t port = 0;
  std::string target;  // path and query, at least "/"

  bool is_tls() const { return scheme == "https"; }
  bool host_is_ipv6() const;
  // The Host header value: host (bracketed if IPv6), plus ":port" unless it is the default.
  std::string HostHeader() const;
};

// Parses an absolute http(s) URL. The port defaults to 80/443; path and query must already be
// percent-encoded (no spaces, controls or non-ASCII). Rejected: other schemes, userinfo ("u@h"),
// fragments ("#f"), empty hosts, ports outside 1..65535, IPv6 zone identifiers.
// Errors: InvalidArgument "net.bad_url".
Result<Url> ParseUrl(std::string_view url);

struct ClientTlsOptions {
  // Trust anchors (PEM, one or more certificates). Without it the system's default CAs are used,
  // unless pinned_spki_sha256 is set.
  std::optional<std::string> ca_pem{};
  // SHA-256 of the server certificate's DER SubjectPublicKeyInfo. When set without ca_pem, the
  // pin replaces CA and hostname verification; with ca_pem, both must pass. Checked after the
  // handshake, before any request byte is sent.
  std::optional<std::array<std::uint8_t, 32>> pinned_spki_sha256{};
  // A client certificate for mutual TLS (both or neither).
  std::optional<std::string> client_cert_pem{};
  std::optional<std::string> client_key_pem{};
  // The name sent as SNI and checked against the certificate; empty: the URL's host (an IP
  // literal is checked against the certificate's IP SANs and sent without SNI).
  std::string server_name{};
  // Replaceable client credentials (tls_credentials.h), instead of client_cert_pem/client_key_pem:
  // each handshake presents their current chain and key.
  std::shared_ptr<TlsCredentials> client_credentials{};
  // Caller-supplied server verification (tls_credentials.h): when set, it replaces CA and
  // host-name verification (ca_pem must be unset); pinned_spki_sha256, if also set, still applies.
  // A refusal fails Send with the hook's own status.
  PeerVerifier verify_server{};
  // Refuse TLS 1.2 (TLS 1.3 only, RFC 8446).
  bool tls13_only = false;
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{30'000};       // the whole exchange, connect included
  std::size_t max_response_bytes = std::size_t{64} << 20;  // response body limit
  ClientTlsOptions tls{};
};

struct HttpClientRequest {
  std::string method = "GET";
  std::string url{};
  HttpHeaders headers{};  // Host, Content-Length and Connection are set by the client
  std::string body{};
};

class HttpClient {
 public:
  explicit HttpClient(ClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request and returns the response, whatever its status. Errors:
  //   InvalidArgument "net.bad_url", "net.bad_request" (method not a token, CR/LF in a header),
  //     "net.tls_config" (unreadable PEM in the options)
  //   Unavailable "net.connect_failed" (resolve or connect), "net.tls_handshake_failed"
  //     (including a server refusing our client certificate), "net.io_error"
  //   VerificationFailed "net.tls_pin_mismatch"
  //   DeadlineExceeded "net.timeout"
  //   ResourceExhausted "net.response_too_large"
  //   Malformed "net.bad_response"
  Result<HttpResponse> Send(const HttpClientRequest& request);

  // Send with "Accept: application/json" (and "Content-Type: application/json" when there is a
  // body and no Content-Type). A 2xx response's body is parsed as JSON (empty: null); anything
  // else becomes the server's error via StatusFromErrorBody. Extra error: Malformed
  // "net.bad_json_response".
  Result<nlohmann::json> SendJson(HttpClientRequest request);
  // Convenience: `body` is serialised unless it is null (then no body is sent).
  Result<nlohmann::json> SendJson(std::string_view method, std::string_view url,
                                  const nlohmann::json& body = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lunal::net
