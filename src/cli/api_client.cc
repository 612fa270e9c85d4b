#include "api_client.h"

#include <fmt/format.h>

#include <utility>

#include "lunal/net/client.h"
#include "lunal/net/errors.h"

namespace lunal::cli {

Result<ApiClient> ApiClient::Create(const ClientConfig& config) {
  std::string base = config.api;
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto url = net::ParseUrl(base + "/");
  if (!url.ok()) {
    return InvalidArgument("cli.bad_api_url", "API URL \"{}\" ({}): {}", config.api,
                           config.source.count("api") ? config.source.at("api") : "default",
                           url.error().message());
  }
  return ApiClient(std::move(base), config.token);
}

ApiClient::ApiClient(std::string base, std::string token)
    : base_(std::move(base)),
      token_(std::move(token)),
      // Long polls wait up to 25 s on the server (events, logs): leave room for them.
      http_(std::make_unique<net::HttpClient>(
          net::ClientOptions{.request_timeout = std::chrono::seconds(60)})) {}
ApiClient::ApiClient(ApiClient&&) noexcept = default;
ApiClient& ApiClient::operator=(ApiClient&&) noexcept = default;
ApiClient::~ApiClient() = default;

std::string ApiClient::Escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

Result<Json> ApiClient::Send(std::string method, std::string_view path, std::string body,
                             std::string content_type) {
  net::HttpClientRequest request{.method = std::move(method), .url = base_ + std::string(path)};
  request.headers.emplace_back("Accept", "application/json");
  if (!token_.empty()) request.headers.emplace_back("Authorization", "Bearer " + token_);
  if (!content_type.empty()) request.headers.emplace_back("Content-Type", content_type);
  request.body = std::move(body);
  auto response = http_->Send(request);
  if (!response.ok()) {
    const Status& e = response.error();
    if (e.code() == Code::kUnavailable || e.code() == Code::kDeadlineExceeded) {
      return e.WithContext(fmt::format("the Lunal API at {}: ", base_));
    }
    return e;
  }
  if (response->status < 200 || response->status > 299) {
    return net::StatusFromErrorBody(response->status, response->body);
  }
  if (response->body.empty()) return Json(nullptr);
  auto json = ParseJson(response->body);
  if (!json.ok()) {
    return Malformed("cli.bad_api_response", "{} {}: the API answered with invalid JSON: {}",
                     request.method, path, json.error().message());
  }
  return std::move(*json);
}

Result<Json> ApiClient::Get(std::string_view path) { return Send("GET", path, "", ""); }

Result<Json> ApiClient::Post(std::string_view path, const Json& body) {
  return Send("POST", path, body.dump(), "application/json");
}

Result<Json> ApiClient::PostBytes(std::string_view path, std::string body) {
  return Send("POST", path, std::move(body), "application/octet-stream");
}

Result<Json> ApiClient::Delete(std::string_view path) { return Send("DELETE", path, "", ""); }

}  // namespace lunal::cli
