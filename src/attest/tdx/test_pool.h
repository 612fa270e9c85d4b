// Test support: the shared Intel collateral pool (../shared/evidence/collateral/intel), loaded
// once per test binary.
#pragma once

#include <memory>

#include "lunal/attest/tdx/collateral_pool.h"

namespace lunal::attest::tdx::testing {

// nullptr (after a test failure) when the folder cannot be loaded.
std::shared_ptr<const CollateralPool> SharedEvidencePool();

}  // namespace lunal::attest::tdx::testing
