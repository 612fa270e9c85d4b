#include "lunal/attest/engine/sim_source.h"

#include <mutex>

#include "lunal/attest/sim/platform.h"
#include "lunal/common/encoding.h"

namespace lunal::attest::engine {
namespace {

class SimulationSource final : public collateral::CollateralSource {
 public:
  SimulationSource(std::shared_ptr<const sim::SimulationRoot> root,
                   std::shared_ptr<collateral::CollateralSource> fallback)
      : root_(std::move(root)), fallback_(std::move(fallback)) {}

  Result<std::shared_ptr<const tdx::CollateralPool>> TdxPool(const collateral::TdxNeed& need,
                                                             Timestamp now) override {
    if (need.fmspc != sim::kFmspc) {
      if (!fallback_) {
        return Unavailable("collateral.unavailable",
                           "no collateral source for a quote that is not sim-tdx's");
      }
      return fallback_->TdxPool(need, now);
    }
    std::lock_guard lock(mu_);
    if (!pool_ || now < generated_ || now >= refresh_at_) {
      LUNAL_ASSIGN_OR_RETURN(std::vector<tdx::PoolInput> inputs, root_->Collateral(now));
      pool_ = tdx::CollateralPool::Build(std::move(inputs), root_->PoolOptions());
      generated_ = now;
      refresh_at_ = now + (sim::kCollateralValidity / 2);
    }
    return pool_;
  }

  Result<Bytes> SnpVcek(const collateral::SnpNeed& need, Timestamp now) override {
    if (!fallback_) return Unavailable("collateral.unavailable", "no SNP collateral source");
    return fallback_->SnpVcek(need, now);
  }

  Result<std::vector<Bytes>> SnpCrls(snp::Product product, Timestamp now) override {
    if (!fallback_) return std::vector<Bytes>{};
    return fallback_->SnpCrls(product, now);
  }

  std::vector<collateral::DocumentInfo> Describe(Timestamp now) const override {
    std::vector<collateral::DocumentInfo> out;
    {
      std::lock_guard lock(mu_);
      if (pool_) {
        out.push_back({.kind = "sim_tdx_collateral",
                       .key = "fmspc=" + HexEncode(sim::kFmspc),
                       .source = "simulation root " + root_->FingerprintHex(),
                       .issued = generated_,
                       .next_update = generated_ + sim::kCollateralValidity,
                       .fetched = generated_,
                       .valid = generated_ <= now && now < generated_ + sim::kCollateralValidity});
      }
    }
    if (fallback_) {
      auto more = fallback_->Describe(now);
      out.insert(out.end(), more.begin(), more.end());
    }
    return out;
  }

 private:
  std::shared_ptr<const sim::SimulationRoot> root_;
  std::shared_ptr<collateral::CollateralSource> fallback_;
  mutable std::mutex mu_;
  std::shared_ptr<const tdx::CollateralPool> pool_;
  Timestamp generated_{};
  Timestamp refresh_at_{};
};

}  // namespace

std::shared_ptr<collateral::CollateralSource> MakeSimulationSource(
    std::shared_ptr<const sim::SimulationRoot> root,
    std::shared_ptr<collateral::CollateralSource> fallback) {
  return std::make_shared<SimulationSource>(std::move(root), std::move(fallback));
}

}  // namespace lunal::attest::engine
