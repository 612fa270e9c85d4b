#include "metrics.h"

#include <fmt/format.h>

#include <cmath>

namespace lunal::attest::service::internal {
namespace {

// Exposition-format numbers: integers as integers; bucket bounds in Go's shortest form ("0.0001",
// "1"), as Prometheus client libraries write them.
std::string FormatBound(double value) { return fmt::format("{}", value); }

void Family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void Metrics::CountRequest(std::string_view endpoint, int code) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(endpoint), code}];
}

void Metrics::CountVerdict(std::string_view tee, std::string_view verdict,
                           std::string_view reason) {
  std::lock_guard lock(mu_);
  ++verdicts_[{std::string(tee), std::string(verdict), std::string(reason)}];
}

void Metrics::ObserveVerifySeconds(double seconds) {
  std::size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  bucket_counts_[i].fetch_add(1, std::memory_order_relaxed);
  const double micros = std::max(0.0, std::round(seconds * 1e6));
  duration_sum_micros_.fetch_add(static_cast<std::uint64_t>(micros), std::memory_order_relaxed);
}

std::string Metrics::Render(const Gauges& gauges) const {
  std::string out;
  auto line = [&out](std::string_view text) {
    out += text;
    out += '\n';
  };
  {
    std::lock_guard lock(mu_);
    Family(out, "lunal_attestation_http_requests_total", "counter",
           "HTTP requests answered, by endpoint (route) and status code.");
    for (const auto& [key, count] : requests_) {
      line(fmt::format("lunal_attestation_http_requests_total{{endpoint=\"{}\",code=\"{}\"}} {}",
                       EscapeLabelValue(std::get<0>(key)), std::get<1>(key), count));
    }
    Family(out, "lunal_attestation_verifications_total", "counter",
           "Verifications by TEE, verdict (verified, rejected, failed) and stable reason.");
    for (const auto& [key, count] : verdicts_) {
      line(fmt::format(
          "lunal_attestation_verifications_total{{tee=\"{}\",verdict=\"{}\",reason=\"{}\"}} {}",
          EscapeLabelValue(std::get<0>(key)), EscapeLabelValue(std::get<1>(key)),
          EscapeLabelValue(std::get<2>(key)), count));
    }
  }
  Family(out, "lunal_attestation_verify_duration_seconds", "histogram",
         "Time spent in the evidence verifier per verification request.");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bucket_counts_.size(); ++i) {
    cumulative += bucket_counts_[i].load(std::memory_order_relaxed);
    const std::string le = i < kBuckets.size() ? FormatBound(kBuckets[i]) : "+Inf";
    line(fmt::format("lunal_attestation_verify_duration_seconds_bucket{{le=\"{}\"}} {}", le,
                     cumulative));
  }
  const double sum =
      static_cast<double>(duration_sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  line(fmt::format("lunal_attestation_verify_duration_seconds_sum {}", sum));
  line(fmt::format("lunal_attestation_verify_duration_seconds_count {}", cumulative));

  Family(out, "lunal_attestation_collateral_documents", "gauge",
         "Collateral documents the source holds, by validity now.");
  line(fmt::format("lunal_attestation_collateral_documents{{state=\"valid\"}} {}",
                   gauges.collateral_valid));
  line(fmt::format("lunal_attestation_collateral_documents{{state=\"expired\"}} {}",
                   gauges.collateral_expired));
  Family(out, "lunal_attestation_token_keys", "gauge",
         "Result-token signing keys published in the JWKS: the current one and retired ones "
         "whose tokens may still be valid.");
  line(fmt::format("lunal_attestation_token_keys{{state=\"current\"}} {}",
                   gauges.token_keys_current));
  line(fmt::format("lunal_attestation_token_keys{{state=\"retired\"}} {}",
                   gauges.token_keys_retired));
  Family(out, "lunal_attestation_auth_disabled", "gauge",
         "1 when the service runs with --insecure-no-auth.");
  line(fmt::format("lunal_attestation_auth_disabled {}", gauges.auth_disabled ? 1 : 0));
  return out;
}

}  // namespace lunal::attest::service::internal
