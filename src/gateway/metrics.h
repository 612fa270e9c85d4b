// Per-deployment request metrics of the gateway (private to src/gateway).
//
// Latency goes into a fixed log-linear histogram (16 sub-buckets per power of two of microseconds,
// so a reported percentile is the upper edge of its bucket: at most 1/16 above the true value),
// which needs no lock and no allocation on the request path. Per-instance counts take a short
// lock. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "lunal/common/json.h"

namespace lunal::gateway::internal {

class LatencyHistogram {
 public:
  static constexpr std::size_t kSubBits = 4;  // 16 sub-buckets per power of two
  static constexpr std::size_t kSub = std::size_t{1} << kSubBits;
  static constexpr std::size_t kMaxExponent = 40;  // 2^40 µs ≈ 12.7 days; larger values clamp
  static constexpr std::size_t kBuckets = kSub + (kMaxExponent - kSubBits + 1) * kSub;

  static std::size_t BucketOf(std::uint64_t micros);
  // The largest value (µs) that falls into `bucket`.
  static std::uint64_t UpperEdge(std::size_t bucket);

  void Record(std::uint64_t micros);
  // The upper edge (µs) of the bucket holding the ceil(q·n)-th smallest value; 0 when empty.
  std::uint64_t Quantile(double q) const;

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> counts_{};
};

class DeploymentMetrics {
 public:
  // One request that reached a known deployment. `instance` is the instance that answered (empty
  // when none did); `error` when the answer was a 5xx or the gateway's own failure.
  void Record(std::string_view instance, bool error, std::uint64_t latency_micros);
  // {"requests", "errors", "latency_ms": {"p50", "p95", "p99"}, "instances": {id: n}}.
  Json ToJson() const;

 private:
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> errors_{0};
  LatencyHistogram latency_;
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t, std::less<>> instances_;  // guarded by mu_
};

}  // namespace lunal::gateway::internal
