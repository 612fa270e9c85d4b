#include "service_testing.h"

#include <gtest/gtest.h>

#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/net/client.h"
#include "lunal/testing/testing.h"

namespace lunal::attest::service::testing {

std::array<std::uint8_t, 32> TokenSha256() { return crypto::Sha256(AsBytes(kToken)); }

Result<Running> Start(ServiceConfig config, BuildOptions options) {
  if (!options.insecure_no_auth) config.token_sha256.push_back(TokenSha256());
  LUNAL_ASSIGN_OR_RETURN(Runtime runtime, BuildRuntime(config, options));
  LUNAL_ASSIGN_OR_RETURN(auto service, AttestationService::Create(std::move(runtime.options)));
  runtime.server.port = 0;
  runtime.server.bind_address = "127.0.0.1";
  LUNAL_RETURN_IF_ERROR(service->Start(runtime.server));
  std::string url = service->url();
  return Running{.service = std::move(service), .url = std::move(url)};
}

Result<Running> Start(ServiceOptions options, int threads) {
  LUNAL_ASSIGN_OR_RETURN(auto service, AttestationService::Create(std::move(options)));
  LUNAL_RETURN_IF_ERROR(
      service->Start({.bind_address = "127.0.0.1", .port = 0, .threads = threads}));
  std::string url = service->url();
  return Running{.service = std::move(service), .url = std::move(url)};
}

std::string Reply::Reason() const {
  if (!json.is_object() || !json.contains("error") || !json["error"].is_object()) return "";
  return json["error"].value("reason", "");
}

Reply Call(std::string_view method, const std::string& url, const std::string& body,
           std::optional<std::string_view> token) {
  net::HttpClient client({.request_timeout = std::chrono::seconds(60)});
  net::HttpClientRequest request{.method = std::string(method), .url = url, .body = body};
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  if (token) request.headers.emplace_back("Authorization", "Bearer " + std::string(*token));
  auto response = client.Send(request);
  Reply reply;
  if (!response.ok()) {
    ADD_FAILURE() << method << " " << url << ": " << response.error();
    return reply;
  }
  reply.status = response->status;
  reply.text = response->body;
  reply.headers = response->headers;
  if (auto json = ParseJson(response->body); json.ok()) reply.json = std::move(*json);
  return reply;
}

std::filesystem::path Evidence(std::string_view path) {
  return lunal::testing::SharedDir() / "evidence" / std::string(path);
}

std::string Base64Of(const std::filesystem::path& file) {
  return Base64Encode(lunal::testing::ReadFileBytes(file));
}

}  // namespace lunal::attest::service::testing
