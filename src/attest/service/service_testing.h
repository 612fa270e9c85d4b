// Test support for the attestation service's tests: start a service on 127.0.0.1 (port 0) from
// a ServiceConfig or ServiceOptions, and call it over real HTTP.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lunal/attest/service/config.h"
#include "lunal/attest/service/service.h"
#include "lunal/common/json.h"
#include "lunal/net/http.h"

namespace lunal::attest::service::testing {

// The bearer token the tests' services accept (configured as its SHA-256).
inline constexpr std::string_view kToken = "lnl_test_Zm9yIHRlc3RzIG9ubHk";
std::array<std::uint8_t, 32> TokenSha256();

struct Running {
  std::unique_ptr<AttestationService> service;
  std::string url;
};

// BuildRuntime(config) (with kToken configured unless `options.insecure_no_auth`), Create, Start.
Result<Running> Start(ServiceConfig config, BuildOptions options = {});
Result<Running> Start(ServiceOptions options, int threads = 2);

struct Reply {
  int status = 0;
  std::string text;
  Json json;  // null unless the body parsed as JSON
  net::HttpHeaders headers;
  std::string Reason() const;  // json["error"]["reason"], or ""
};

// One request over a fresh client. `token`: the Authorization bearer token, none when nullopt.
Reply Call(std::string_view method, const std::string& url, const std::string& body = "",
           std::optional<std::string_view> token = kToken);
inline Reply Post(const std::string& url, const Json& body,
                  std::optional<std::string_view> token = kToken) {
  return Call("POST", url, body.dump(), token);
}

// ../shared/evidence/<path>, and its bytes in base64.
std::filesystem::path Evidence(std::string_view path);
std::string Base64Of(const std::filesystem::path& file);

}  // namespace lunal::attest::service::testing
