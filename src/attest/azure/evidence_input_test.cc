// DecodeAzureEvidence over every Azure file of the evidence table, and over the other TEEs'
// files, which must be left to their own decoders.
#include "lunal/attest/azure/evidence_input.h"

#include <gtest/gtest.h>

#include "test_evidence.h"

namespace lunal::attest::azure {
namespace {

using testing::AzureRow;
using testing::ReadEvidence;

class AzureContainerTest : public ::testing::TestWithParam<AzureRow> {};

TEST_P(AzureContainerTest, DecodesEveryPart) {
  const AzureRow& row = GetParam();
  auto evidence = DecodeAzureEvidence(ReadEvidence(row.path));
  ASSERT_TRUE(evidence.ok()) << evidence.error();
  EXPECT_EQ(evidence->container, row.container);
  EXPECT_EQ(evidence->tee, row.tee);
  EXPECT_TRUE(ParseHclReport(evidence->hcl_report).ok());
  EXPECT_EQ(evidence->tpm_quote.has_value(), !row.nonce_hex.empty());
  if (evidence->tpm_quote) {
    EXPECT_EQ(evidence->tpm_quote->pcrs.size(), 24u);
    EXPECT_EQ(evidence->tpm_quote->signature.size(), 256u);
  }
  const bool bare = row.container == Container::kHclReport;
  EXPECT_EQ(evidence->vcek.has_value(), row.tee == HclReportType::kSnp && !bare);
  EXPECT_EQ(evidence->td_quote.has_value(), row.tee == HclReportType::kTdx);
}

INSTANTIATE_TEST_SUITE_P(Evidence, AzureContainerTest, ::testing::ValuesIn(testing::AzureRows()));

TEST(AzureContainerTest, LeavesOtherEvidenceToItsOwnDecoder) {
  for (const std::string path : {
           "lunal-attestation-rs/crates/attestation/test_data/tdx_quote_4.dat",
           "lunal-attestation-rs/crates/attestation/test_data/snp/test-report.bin",
           "lunal-attestation-rs/crates/attestation/test_data/snp/live-evidence-genoa.json",
           "trustee/attestation-service/tests/e2e/evidence.json",
           "virtee-sev/tests/certs_data/report_milan.hex",
       }) {
    auto evidence = DecodeAzureEvidence(ReadEvidence(path));
    ASSERT_FALSE(evidence.ok()) << path;
    EXPECT_EQ(evidence.error().reason(), "azure.container.not_azure") << path;
  }
}

TEST(AzureContainerTest, NamesTheFieldAtFault) {
  const std::string json =
      R"({"tpm_quote":{"message":"zz","signature":"00","pcrs":[]},"hcl_report":"00","vcek":"00"})";
  auto evidence = DecodeAzureEvidence(AsBytes(json));
  ASSERT_FALSE(evidence.ok());
  EXPECT_NE(evidence.error().message().find("tpm_quote.message"), std::string::npos)
      << evidence.error();
  const std::string pcr = R"({"tpm_quote":{"message":"00","signature":"00","pcrs":[7]},)"
                          R"("hcl_report":"00","vcek":"00"})";
  auto bad_pcr = DecodeAzureEvidence(AsBytes(pcr));
  ASSERT_FALSE(bad_pcr.ok());
  EXPECT_EQ(bad_pcr.error().reason(), "azure.container.pcrs");
  EXPECT_NE(bad_pcr.error().message().find("pcrs[0]"), std::string::npos) << bad_pcr.error();
}

}  // namespace
}  // namespace lunal::attest::azure
