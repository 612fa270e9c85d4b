// MakeStandardSource: folders alone, and folders + PCS + KDS against the fake.
#include "lunal/attest/collateral/standard_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lunal/attest/snp/report.h"
#include "lunal/attest/tdx/verify.h"
#include "lunal/testing/testing.h"
#include "test_rows.h"

namespace lunal::attest::collateral {
namespace {

namespace fs = std::filesystem;
using testing::AcceptedTdxRows;
using testing::AsOf;
using testing::EvidenceDir;
using testing::IntelCollateralDir;
using testing::QuoteOf;
using testing::T;

constexpr const char* kSnpDir = "lunal-attestation-rs/crates/attestation/test_data/snp";

SnpNeed NeedOfReport(const fs::path& path, snp::Product product) {
  const Bytes bytes = lunal::testing::ReadFileBytes(path);
  auto report = snp::ParseReport(bytes);
  EXPECT_TRUE(report.ok());
  if (!report.ok()) return {};
  return {.product = product,
          .chip_id = Bytes(report->chip_id.begin(), report->chip_id.end()),
          .reported_tcb = report->reported_tcb.Decode(product),
          .vlek = false};
}

TEST(StandardSource, FoldersAloneServeTdxAndNoVcek) {
  auto source = MakeStandardSource({.folders = {IntelCollateralDir()}});
  ASSERT_TRUE(source.ok()) << source.error();
  const testing::TdxRow& row = AcceptedTdxRows().front();
  const Bytes quote = QuoteOf(row);
  auto pool = (*source)->TdxPool(*TdxNeedOf(quote), AsOf(row));
  ASSERT_TRUE(pool.ok());
  tdx::Verifier verifier(*pool);
  EXPECT_TRUE(verifier.Verify(quote, {.as_of = AsOf(row)}).ok());
  auto vcek = (*source)->SnpVcek(
      NeedOfReport(EvidenceDir() / kSnpDir / "test-report.bin", snp::Product::kMilan),
      T("2026-07-26T05:58:26Z"));
  ASSERT_FALSE(vcek.ok());
  EXPECT_EQ(vcek.error().reason(), "collateral.unavailable");
}

TEST(StandardSource, FoldersFirstThenTheVendors) {
  auto fake = testing::StartFake();
  ASSERT_NE(fake, nullptr);
  lunal::testing::TempDir tmp;
  fs::create_directory(tmp / "amd");
  fs::copy_file(EvidenceDir() / kSnpDir / "test-vcek.der", tmp / "amd" / "vcek.der");
  const testing::TdxRow& row = AcceptedTdxRows().front();
  fake->ServeValidAt(AsOf(row));
  FakeClock clock(AsOf(row));
  auto source = MakeStandardSource(
      {.folders = {tmp / "amd"},
       .pcs = PcsSourceOptions{.base_url = fake->BaseUrl(),
                               .root_ca_crl_url = fake->RootCaCrlUrl(),
                               .cache_dir = tmp / "cache",
                               .clock = &clock},
       .kds = KdsSourceOptions{
           .base_url = fake->BaseUrl(), .cache_dir = tmp / "cache", .clock = &clock}});
  ASSERT_TRUE(source.ok()) << source.error();

  // TDX from PCS.
  const Bytes quote = QuoteOf(row);
  auto pool = (*source)->TdxPool(*TdxNeedOf(quote), AsOf(row));
  ASSERT_TRUE(pool.ok()) << pool.error();
  tdx::Verifier verifier(*pool);
  EXPECT_TRUE(verifier.Verify(quote, {.as_of = AsOf(row)}).ok());
  EXPECT_EQ(fake->TotalRequests(), 4u);

  // The Milan VCEK from the folder: KDS is not asked.
  const SnpNeed milan =
      NeedOfReport(EvidenceDir() / kSnpDir / "test-report.bin", snp::Product::kMilan);
  ASSERT_TRUE((*source)->SnpVcek(milan, T("2026-07-26T05:58:26Z")).ok());
  EXPECT_EQ(fake->TotalRequests(), 4u);
  // The Genoa one from KDS.
  const SnpNeed genoa =
      NeedOfReport(EvidenceDir() / kSnpDir / "live-report-v5-genoa.bin", snp::Product::kGenoa);
  auto vcek = (*source)->SnpVcek(genoa, T("2029-08-19T11:01:36Z"));
  ASSERT_TRUE(vcek.ok()) << vcek.error();
  EXPECT_EQ(*vcek, lunal::testing::ReadFileBytes(EvidenceDir() / kSnpDir / "live-vcek-genoa.der"));
  EXPECT_EQ(fake->TotalRequests(), 5u);
  // CRLs: none anywhere (KDS 404).
  auto crls = (*source)->SnpCrls(snp::Product::kGenoa, T("2029-08-19T11:01:36Z"));
  ASSERT_TRUE(crls.ok()) << crls.error();
  EXPECT_TRUE(crls->empty());

  // Describe: the four PCS documents, the folder's VCEK, KDS's VCEK.
  std::map<std::string, int> kinds;
  for (const DocumentInfo& info : (*source)->Describe(AsOf(row))) ++kinds[info.kind];
  EXPECT_EQ(kinds["tdx_tcb_info"], 1);
  EXPECT_EQ(kinds["tdx_qe_identity"], 1);
  EXPECT_EQ(kinds["pck_crl"], 1);
  EXPECT_EQ(kinds["root_ca_crl"], 1);
  EXPECT_EQ(kinds["snp_vcek"], 2);
}

}  // namespace
}  // namespace lunal::attest::collateral
