// HTTP GET for the vendor services (docs/protocols/pcs-kds.md), with the limits and the error
// mapping every source shares. Private to attest/collateral.
//
// Each Get opens its own net::HttpClient (HttpClient is single-threaded; fetches are rare, so a
// connection per fetch costs little and needs no pool). A 429 answer blocks this Fetcher for the
// Retry-After delay (delta-seconds, RFC 9110 §10.2.3; 60 s when absent or an HTTP-date): calls in
// that window fail at once, without a request, and nothing ever sleeps.
//
// Errors (all kUnavailable: the vendor service could not give us the document):
//   collateral.rate_limited        429, or still inside its Retry-After window
//   collateral.not_found           404 (the service has no such document)
//   collateral.fetch_failed        connect/TLS/timeout failures and any other HTTP status
//   collateral.response_too_large  a body over max_response_bytes
// Messages name the service and the URL, never a credential (none is sent).
//
// Thread-safety: Get may be called from many threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>

#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/net/client.h"
#include "lunal/net/http.h"

namespace lunal::attest::collateral::internal {

struct FetcherOptions {
  std::string service;  // "Intel PCS", "AMD KDS": for messages
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{10'000};
  std::size_t max_response_bytes = std::size_t{1} << 20;
  net::ClientTlsOptions tls = {};
  const Clock* clock = nullptr;  // for the Retry-After window
};

class Fetcher {
 public:
  explicit Fetcher(FetcherOptions options);

  // A 200 response (headers and body), or the error above.
  Result<net::HttpResponse> Get(const std::string& url);

 private:
  Status RateLimited(const std::string& url, Timestamp until) const;

  FetcherOptions options_;
  std::mutex mu_;
  std::optional<Timestamp> blocked_until_;
};

// Intel's issuer-chain headers carry URL-encoded PEM (%20, %0A, %2B, ...): decoded with '+' kept
// as '+' (base64 uses it), so both encoded and unencoded forms read the same.
std::optional<std::string> DecodeIssuerChainHeader(std::string_view value);

}  // namespace lunal::attest::collateral::internal
