#include "metrics.h"

#include <bit>
#include <cmath>

namespace lunal::gateway::internal {

std::size_t LatencyHistogram::BucketOf(std::uint64_t micros) {
  if (micros < kSub) return static_cast<std::size_t>(micros);
  auto exponent = static_cast<std::size_t>(std::bit_width(micros) - 1);  // ≥ kSubBits
  if (exponent > kMaxExponent) return kBuckets - 1;
  const std::size_t sub = static_cast<std::size_t>(micros >> (exponent - kSubBits)) & (kSub - 1);
  return kSub + (exponent - kSubBits) * kSub + sub;
}

std::uint64_t LatencyHistogram::UpperEdge(std::size_t bucket) {
  if (bucket < kSub) return bucket;
  const std::size_t exponent = (bucket - kSub) / kSub + kSubBits;
  const std::size_t sub = (bucket - kSub) % kSub;
  const std::uint64_t width = std::uint64_t{1} << (exponent - kSubBits);
  return (kSub + sub) * width + width - 1;
}

void LatencyHistogram::Record(std::uint64_t micros) {
  counts_[BucketOf(micros)].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t LatencyHistogram::Quantile(double q) const {
  std::array<std::uint64_t, kBuckets> snapshot{};
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    snapshot[i] = counts_[i].load(std::memory_order_relaxed);
    total += snapshot[i];
  }
  if (total == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += snapshot[i];
    if (seen >= rank) return UpperEdge(i);
  }
  return UpperEdge(kBuckets - 1);
}

void DeploymentMetrics::Record(std::string_view instance, bool error,
                               std::uint64_t latency_micros) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  if (error) errors_.fetch_add(1, std::memory_order_relaxed);
  latency_.Record(latency_micros);
  if (instance.empty()) return;
  std::lock_guard lock(mu_);
  auto it = instances_.find(instance);
  if (it == instances_.end()) {
    instances_.emplace(std::string(instance), 1);
  } else {
    ++it->second;
  }
}

Json DeploymentMetrics::ToJson() const {
  auto ms = [&](double q) { return static_cast<double>(latency_.Quantile(q)) / 1000.0; };
  Json instances = Json::object();
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, n] : instances_) instances[id] = n;
  }
  return Json{{"requests", requests_.load(std::memory_order_relaxed)},
              {"errors", errors_.load(std::memory_order_relaxed)},
              {"latency_ms", {{"p50", ms(0.50)}, {"p95", ms(0.95)}, {"p99", ms(0.99)}}},
              {"instances", std::move(instances)}};
}

}  // namespace lunal::gateway::internal
