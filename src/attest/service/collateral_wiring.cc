#include "collateral_wiring.h"

#include "lunal/attest/collateral/standard_source.h"

namespace lunal::attest::service::internal {

Result<std::shared_ptr<collateral::CollateralSource>> MakeConfiguredSource(
    const CollateralConfig& config, const Clock& clock) {
  if (config.folders.empty() && !config.pcs && !config.kds) {
    return std::shared_ptr<collateral::CollateralSource>();
  }
  collateral::StandardSourceOptions options{.folders = config.folders};
  if (config.pcs) {
    collateral::PcsSourceOptions pcs;
    pcs.base_url = config.pcs->base_url;
    if (!config.pcs->root_ca_crl_url.empty()) pcs.root_ca_crl_url = config.pcs->root_ca_crl_url;
    pcs.cache_dir = config.pcs->cache_dir;
    pcs.clock = &clock;
    options.pcs = std::move(pcs);
  }
  if (config.kds) {
    collateral::KdsSourceOptions kds;
    kds.base_url = config.kds->base_url;
    kds.cache_dir = config.kds->cache_dir;
    kds.clock = &clock;
    options.kds = std::move(kds);
  }
  return collateral::MakeStandardSource(std::move(options));
}

}  // namespace lunal::attest::service::internal
