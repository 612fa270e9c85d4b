#include "fetcher.h"

#include <charconv>
#include <utility>

#include "lunal/common/log.h"

namespace lunal::attest::collateral::internal {
namespace {

constexpr std::chrono::seconds kDefaultRetryAfter{60};
constexpr std::chrono::seconds kMaxRetryAfter{24 * 3600};

// Retry-After: delta-seconds (RFC 9110 §10.2.3). An HTTP-date, or nothing, gets the default.
std::chrono::seconds RetryAfter(const net::HttpResponse& response) {
  auto value = response.Header("Retry-After");
  if (!value) return kDefaultRetryAfter;
  std::string_view text = *value;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || seconds < 0) {
    return kDefaultRetryAfter;
  }
  return std::min(std::chrono::seconds(seconds), kMaxRetryAfter);
}

}  // namespace

Fetcher::Fetcher(FetcherOptions options) : options_(std::move(options)) {
  if (options_.clock == nullptr) options_.clock = &SystemClock::Instance();
}

Status Fetcher::RateLimited(const std::string& url, Timestamp until) const {
  return Unavailable("collateral.rate_limited",
                     "{} rate-limits us (HTTP 429): not asking again before {}; GET {} refused",
                     options_.service, FormatRfc3339(until), url);
}

Result<net::HttpResponse> Fetcher::Get(const std::string& url) {
  {
    std::lock_guard lock(mu_);
    if (blocked_until_ && options_.clock->Now() < *blocked_until_) {
      return RateLimited(url, *blocked_until_);
    }
  }
  net::HttpClient client({.connect_timeout = options_.connect_timeout,
                          .request_timeout = options_.request_timeout,
                          .max_response_bytes = options_.max_response_bytes,
                          .tls = options_.tls});
  auto response = client.Send({.method = "GET", .url = url, .headers = {}, .body = {}});
  if (!response.ok()) {
    const Status& e = response.error();
    if (e.reason() == "net.response_too_large") {
      return Unavailable("collateral.response_too_large",
                         "{} GET {}: the response is larger than {} bytes", options_.service, url,
                         options_.max_response_bytes);
    }
    return Unavailable("collateral.fetch_failed", "{} GET {}: {}", options_.service, url,
                       e.ToString());
  }
  const int status = response->status;
  if (status == 200) return response;
  if (status == 429) {
    const Timestamp until = options_.clock->Now() + RetryAfter(*response);
    {
      std::lock_guard lock(mu_);
      if (!blocked_until_ || *blocked_until_ < until) blocked_until_ = until;
    }
    log::Warn("collateral.rate_limited",
              {{"service", options_.service}, {"url", url}, {"until", FormatRfc3339(until)}});
    return RateLimited(url, until);
  }
  if (status == 404) {
    return Unavailable("collateral.not_found", "{} GET {}: HTTP 404 (no such document)",
                       options_.service, url);
  }
  return Unavailable("collateral.fetch_failed", "{} GET {}: HTTP {}", options_.service, url,
                     status);
}

std::optional<std::string> DecodeIssuerChainHeader(std::string_view value) {
  return net::PercentDecode(value, /*plus_as_space=*/false);
}

}  // namespace lunal::attest::collateral::internal
