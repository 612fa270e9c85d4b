// DecodeReportContainer: each container kind, and the failures it names.
#include "lunal/attest/snp/evidence_input.h"

#include <gtest/gtest.h>

#include "lunal/attest/snp/report_layout.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "test_reports.h"

namespace lunal::attest::snp {
namespace {

using testing::ReadEvidence;

TEST(EvidenceInputTest, HexAndBase64OfARawReport) {
  Bytes raw = ReadEvidence(testing::kReportV2);
  for (const std::string& text : {HexEncode(raw), Base64Encode(raw), Base64UrlEncode(raw)}) {
    auto decoded = DecodeReportContainer(ToBytes(" " + text + "\n"));
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_EQ(decoded->report, raw);
  }
}

TEST(EvidenceInputTest, HclReportIsUnwrapped) {
  Bytes hcl =
      ReadEvidence("lunal-attestation-rs/crates/attestation/test_data/az_snp/hcl-report.bin");
  auto decoded = DecodeReportContainer(hcl);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ(decoded->container, Container::kHclReport);
  EXPECT_EQ(decoded->report.size(), layout::kReportSize);
  EXPECT_EQ(decoded->report, Bytes(hcl.begin() + 0x20, hcl.begin() + 0x20 + 1184));
  hcl.resize(0x20 + 1183);
  auto truncated = DecodeReportContainer(hcl);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().reason(), "snp.container.hcl_truncated");
}

TEST(EvidenceInputTest, Failures) {
  auto empty = DecodeReportContainer({});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().reason(), "snp.container.empty");
  auto tdx = DecodeReportContainer(ToBytes(R"({"platform": "tdx", "evidence": {}})"));
  ASSERT_FALSE(tdx.ok());
  EXPECT_EQ(tdx.error().reason(), "snp.container.wrong_platform");
  auto other = DecodeReportContainer(ToBytes(R"({"something": 1})"));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().reason(), "snp.container.unrecognized");
  auto bad = DecodeReportContainer(ToBytes(R"({"report": [1, 256], "vcek": ""})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason(), "snp.container.bad_byte_array");
  auto text = DecodeReportContainer(ToBytes("not a report!"));
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().reason(), "snp.container.unrecognized");
}

}  // namespace
}  // namespace lunal::attest::snp

namespace lunal::attest::snp {
namespace {

// trustee's decoded report: re-encoded to the bytes the signature covers (verify_test.cc proves
// the re-encoding faithful by verifying it); wrong shapes are named.
TEST(EvidenceInputTest, TrusteeDecodedReport) {
  const std::string path = "trustee/attestation-service/tests/e2e/evidence.json";
  auto decoded = DecodeReportContainer(testing::ReadEvidence(path));
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ(decoded->container, Container::kTrusteeSnpDecoded);
  EXPECT_EQ(decoded->report.size(), layout::kReportSize);
  ASSERT_TRUE(decoded->vcek.has_value());
  EXPECT_EQ(decoded->vcek->size(), 1347u);

  Json doc = ParseJson(AsStringView(testing::ReadEvidence(path))).value();
  Json short_measurement = doc;
  short_measurement["attestation_report"]["measurement"].erase(0);
  auto bad = DecodeReportContainer(ToBytes(short_measurement.dump()));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason(), "snp.container.bad_byte_array");
  Json no_policy = doc;
  no_policy["attestation_report"].erase("policy");
  auto missing = DecodeReportContainer(ToBytes(no_policy.dump()));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason().substr(0, 5), "json.") << missing.error();
}

}  // namespace
}  // namespace lunal::attest::snp
