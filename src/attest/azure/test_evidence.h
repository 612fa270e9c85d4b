// Test support: the Azure rows of ../shared/evidence/README.md's "Expected results" table, the
// real HCL reports and vTPM quotes beside them, and the shared Intel collateral.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/azure/evidence_input.h"
#include "lunal/attest/tdx/collateral_pool.h"
#include "lunal/common/bytes.h"

namespace lunal::attest::azure::testing {

struct AzureRow {
  std::string path;  // relative to ../shared/evidence
  Container container;
  HclReportType tee;
  std::string as_of;               // the README's as-of column
  std::string measurement_prefix;  // MRTD / MEASUREMENT column
  std::string cert;                // SNP bare HCL reports: the VCEK file beside them
  std::string nonce_hex;           // the vTPM quote's extraData ("" for a bare HCL report)
};

inline void PrintTo(const AzureRow& row, std::ostream* os) { *os << row.path; }

// Every Azure row of the table (HCL reports and vTPM evidence, SNP and TDX: 12 files).
const std::vector<AzureRow>& AzureRows();

Bytes ReadEvidence(std::string_view path);

inline constexpr std::string_view kRs = "lunal-attestation-rs/crates/attestation/test_data/";
inline constexpr std::string_view kTrustee = "trustee/deps/verifier/test_data/";

// ../shared/evidence/collateral/intel, loaded once.
std::shared_ptr<const tdx::CollateralPool> IntelPool();

}  // namespace lunal::attest::azure::testing
