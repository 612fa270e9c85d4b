// The service's Prometheus metrics, rendered in the text exposition format (Prometheus
// "Exposition formats", text format 0.0.4): HELP and TYPE lines once per family, families
// contiguous, label values escaped (\\, \", \n), counters named *_total, histogram buckets
// cumulative and ending at le="+Inf". Private to attest/service.
//
// Families:
//   lunal_attestation_http_requests_total{endpoint,code}        counter
//   lunal_attestation_verifications_total{tee,verdict,reason}   counter
//   lunal_attestation_verify_duration_seconds{le}               histogram (engine time only)
//   lunal_attestation_collateral_documents{state}               gauge (valid, expired)
//   lunal_attestation_token_keys{state}                         gauge (current, retired)
//   lunal_attestation_auth_disabled                             gauge (1 with --insecure-no-auth)
//
// Thread-safety: every method may be called from many threads (one mutex for the counters, held
// for a map update; the histogram is lock-free).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace lunal::attest::service::internal {

struct Gauges {
  std::uint64_t collateral_valid = 0;
  std::uint64_t collateral_expired = 0;
  std::uint64_t token_keys_current = 0;
  std::uint64_t token_keys_retired = 0;  // still published
  bool auth_disabled = false;
};

class Metrics {
 public:
  // Upper bounds (seconds) of the verify-duration buckets.
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.25,   1.0};

  void CountRequest(std::string_view endpoint, int code);
  void CountVerdict(std::string_view tee, std::string_view verdict, std::string_view reason);
  void ObserveVerifySeconds(double seconds);

  std::string Render(const Gauges& gauges) const;

 private:
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, int>, std::uint64_t> requests_;                       // mu_
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> verdicts_;  // mu_
  std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> bucket_counts_{};  // last: +Inf
  std::atomic<std::uint64_t> duration_sum_micros_{0};
};

// A label value escaped for the exposition format: backslash, double quote and line feed.
std::string EscapeLabelValue(std::string_view value);

}  // namespace lunal::attest::service::internal
