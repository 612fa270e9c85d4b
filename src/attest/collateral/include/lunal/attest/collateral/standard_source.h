// The collateral source a service or CLI configures: folders, plus Intel PCS and AMD KDS when
// enabled, behind one CollateralSource.
//
//   TDX  TdxPool: the PCS source when enabled (its pool holds the folders too), else the folders.
//   SNP  SnpVcek: the folders first (a matching vcek.der / vlek.der), then KDS when enabled.
//        SnpCrls: the folders' CRLs for the product, plus KDS's when enabled. When KDS fails and
//        the folders have one, the folders' are returned (the failure is logged); when KDS fails
//        and the folders have none, KDS's error is returned.
//   Describe: everything, folders first.
//
// With neither PCS nor KDS this is a FolderSource. Errors: those of the sources' Open.
// Thread-safety: every method may be called from many threads.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "lunal/attest/collateral/kds_source.h"
#include "lunal/attest/collateral/pcs_source.h"
#include "lunal/attest/collateral/source.h"

namespace lunal::attest::collateral {

struct StandardSourceOptions {
  std::vector<std::filesystem::path> folders = {};
  tdx::PoolOptions pool_options = {};
  // Enables Intel PCS; its `folders` and `pool_options` are replaced by the two above.
  std::optional<PcsSourceOptions> pcs = std::nullopt;
  std::optional<KdsSourceOptions> kds = std::nullopt;
};

Result<std::shared_ptr<CollateralSource>> MakeStandardSource(StandardSourceOptions options);

}  // namespace lunal::attest::collateral
