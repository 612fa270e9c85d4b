// The collateral source a configuration names: its folders, then Intel PCS and AMD KDS (each
// with its on-disk cache). Private to attest/service.
#pragma once

#include <memory>

#include "lunal/attest/collateral/source.h"
#include "lunal/attest/service/config.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"

namespace lunal::attest::service::internal {

// Null when the configuration names no collateral at all (TDX quotes then get 400
// attestation.no_collateral, SNP reports need their VCEK in the evidence or the request).
Result<std::shared_ptr<collateral::CollateralSource>> MakeConfiguredSource(
    const CollateralConfig& config, const Clock& clock);

}  // namespace lunal::attest::service::internal
