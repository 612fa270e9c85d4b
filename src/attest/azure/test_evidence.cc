#include "test_evidence.h"

#include <gtest/gtest.h>

#include "lunal/testing/testing.h"

namespace lunal::attest::azure::testing {
namespace {

std::string Rs(std::string_view rest) { return std::string(kRs) + std::string(rest); }
std::string Tr(std::string_view rest) { return std::string(kTrustee) + std::string(rest); }

// "challenge" and "attestation-test-fixture", the nonces the captures were asked for.
constexpr std::string_view kChallenge = "6368616c6c656e6765";
constexpr std::string_view kFixture = "6174746573746174696f6e2d746573742d66697874757265";

}  // namespace

const std::vector<AzureRow>& AzureRows() {
  using C = Container;
  constexpr auto kTdx = HclReportType::kTdx;
  constexpr auto kSnp = HclReportType::kSnp;
  static const std::vector<AzureRow> rows = {
      {Rs("az_tdx/evidence-v1.json"), C::kAttestationRsAzTdx, kTdx, "2025-10-01T00:34:24Z",
       "024a32b070383331", "", std::string(kChallenge)},
      {Rs("az_tdx/live-evidence.json"), C::kTrusteeAzTdxVtpm, kTdx, "2026-03-31T22:20:07Z",
       "273828c46252fcbd", "", std::string(kFixture)},
      {Tr("az-tdx-vtpm/evidence-v0.json"), C::kTrusteeAzTdxVtpm, kTdx, "2025-10-01T00:34:24Z",
       "024a32b070383331", "", std::string(kChallenge)},
      {Tr("az-tdx-vtpm/evidence-v1.json"), C::kTrusteeAzTdxVtpm, kTdx, "2025-10-01T00:34:24Z",
       "024a32b070383331", "", std::string(kChallenge)},
      {Rs("az_snp/hcl-report.bin"), C::kHclReport, kSnp, "2026-11-01T09:22:19Z", "9ac48fcac8a2d88a",
       Rs("az_snp/vcek.pem"), ""},
      {Tr("az-snp-vtpm/hcl-report.bin"), C::kHclReport, kSnp, "2026-11-01T09:22:19Z",
       "9ac48fcac8a2d88a", Tr("az-snp-vtpm/vcek.pem"), ""},
      {Rs("az_snp/evidence-v1.json"), C::kAttestationRsAzSnp, kSnp, "2026-11-01T09:22:19Z",
       "9ac48fcac8a2d88a", "", std::string(kChallenge)},
      {Rs("az_snp/live-evidence.json"), C::kAttestationRsAzSnp, kSnp, "2028-07-24T19:38:01Z",
       "6a063be9dd79f637", "", std::string(kFixture)},
      {Tr("az-snp-vtpm/evidence-genoa.json"), C::kTrusteeAzSnpVtpm, kSnp, "2028-07-25T02:21:48Z",
       "f57dc09a507c6ecd", "",
       "0218488bae25d2509232bf676f1a66a30d7372add909109b36016ef136f2938ca05475f8b46094de6b64270ea3"
       "5d950f"},
      {Tr("az-snp-vtpm/evidence-v0.json"), C::kTrusteeAzSnpVtpm, kSnp, "2028-07-29T16:26:55Z",
       "6a063be9dd79f637", "", std::string(kChallenge)},
      {Tr("az-snp-vtpm/evidence-v1.json"), C::kTrusteeAzSnpVtpm, kSnp, "2028-07-29T16:26:55Z",
       "6a063be9dd79f637", "", std::string(kChallenge)},
      {Tr("az-snp-vtpm/evidence-v2.json"), C::kTrusteeAzSnpVtpm, kSnp, "2028-07-29T16:33:43Z",
       "5b0ce64ad1c1f637", "",
       "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5"
       "f819ef"},
  };
  return rows;
}

Bytes ReadEvidence(std::string_view path) {
  return lunal::testing::ReadFileBytes(lunal::testing::SharedDir() / "evidence" /
                                       std::string(path));
}

std::shared_ptr<const tdx::CollateralPool> IntelPool() {
  static const std::shared_ptr<const tdx::CollateralPool> pool = [] {
    auto loaded = tdx::CollateralPool::LoadDirectory(lunal::testing::SharedDir() / "evidence" /
                                                     "collateral" / "intel");
    EXPECT_TRUE(loaded.ok()) << loaded.error();
    return loaded.ok() ? *loaded : nullptr;
  }();
  return pool;
}

}  // namespace lunal::attest::azure::testing
