// ApiClient: the control plane's REST API (docs/api/openapi.yaml; issue 8's contract) as the CLI
// calls it. JSON under /v1 with `Authorization: Bearer <token>`; an error response becomes the
// server's Status (code, reason, message), so exit codes follow docs/conventions.md.
//
//   LUNAL_ASSIGN_OR_RETURN(ApiClient api, ApiClient::Create(config));
//   LUNAL_ASSIGN_OR_RETURN(Json d, api.Get("/v1/deployments/" + api.Escape(name)));
//
// Errors: the server's own, and net.* from the HTTP client (net.connect_failed, net.timeout:
// kUnavailable / kDeadlineExceeded, which the CLI reports with the API URL it tried).
// Thread-safety: none (one HttpClient).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "lunal/cli/client_config.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"

namespace lunal::net {
class HttpClient;
}  // namespace lunal::net

namespace lunal::cli {

class ApiClient {
 public:
  // `config.api` must be an http(s) URL (a trailing '/' is dropped). Errors: cli.bad_api_url.
  static Result<ApiClient> Create(const ClientConfig& config);
  ApiClient(ApiClient&&) noexcept;
  ApiClient& operator=(ApiClient&&) noexcept;
  ~ApiClient();

  const std::string& base_url() const { return base_; }

  Result<Json> Get(std::string_view path);
  Result<Json> Post(std::string_view path, const Json& body);
  // POST of raw bytes (an upload), Content-Type application/octet-stream.
  Result<Json> PostBytes(std::string_view path, std::string body);
  Result<Json> Delete(std::string_view path);

  // Percent-encodes one path segment or query value (RFC 3986 §2.3 unreserved kept).
  static std::string Escape(std::string_view text);

 private:
  ApiClient(std::string base, std::string token);
  Result<Json> Send(std::string method, std::string_view path, std::string body,
                    std::string content_type);

  std::string base_;
  std::string token_;
  std::unique_ptr<net::HttpClient> http_;
};

}  // namespace lunal::cli
