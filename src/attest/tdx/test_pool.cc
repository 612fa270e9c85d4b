#include "test_pool.h"

#include <gtest/gtest.h>

#include "lunal/testing/testing.h"

namespace lunal::attest::tdx::testing {

std::shared_ptr<const CollateralPool> SharedEvidencePool() {
  static const auto pool = [] {
    auto loaded =
        CollateralPool::LoadDirectory(lunal::testing::SharedDir() / "evidence/collateral/intel");
    EXPECT_TRUE(loaded.ok()) << loaded.error();
    return loaded.ok() ? *loaded : nullptr;
  }();
  return pool;
}

}  // namespace lunal::attest::tdx::testing
