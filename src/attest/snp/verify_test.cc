// VerifyReport over every SNP row of ../shared/evidence/README.md's "Expected results" table, at
// the row's as-of time. Where each row's signing certificate comes from:
//   JSON envelopes                 the certificate inside the file ("vcek", "cert_chain.vcek",
//                                  trustee's "cert_chain"[{"cert_type": "VCEK"}])
//   snp/live-report-v5-genoa.bin   snp/live-vcek-genoa.der (same capture as live-evidence-genoa)
//   snp/test-report.bin            snp/test-vcek.der; the forged test-vcek-invalid-{legacy,new}.der
//   snp/test-vlek-report.bin       snp/test-vlek.der (VLEK, issued by SEV-VLEK-Milan)
//   az_snp/hcl-report.bin          az_snp/vcek.pem (VCEK, ASK, ARK as Azure serves them); the
//                                  mismatched pairing is az_snp/imds-vcek.der
//   trustee az-snp-vtpm/hcl-report trustee az-snp-vtpm/vcek.pem
//   go-sev-guest attestation.bin   go-sev-guest/verify/testdata/vcek.testcer (DER)
//   virtee report_milan.hex        virtee-sev/tests/certs_data/vcek_milan.der
// The README names the pairings "lunal__az_snp_hcl-report+imds-vcek(MISMATCH).vcek.der" and
// "lunal__test-report+test-vcek-invalid-*.vcek.der": those are the files above.
#include "lunal/attest/snp/verify.h"

#include <gtest/gtest.h>

#include "lunal/attest/snp/evidence_input.h"
#include "lunal/common/encoding.h"
#include "test_reports.h"

namespace lunal::attest::snp {
namespace {

using testing::ReadEvidence;

const std::string kRs = "lunal-attestation-rs/crates/attestation/test_data/";
const std::string kTr = "trustee/deps/verifier/test_data/";

struct Row {
  std::string report;
  std::string cert;  // empty: the certificate in the container
  std::string as_of;
  std::string reason;  // empty: accept
  std::string measurement_prefix;
};
void PrintTo(const Row& row, std::ostream* os) { *os << row.report << " + " << row.cert; }

std::vector<Row> Rows() {
  return {
      {kRs + "snp/live-report-v5-genoa.bin", kRs + "snp/live-vcek-genoa.der",
       "2029-08-19T11:01:36Z", "", "d9912ba396ce409c"},
      {kRs + "snp/live-evidence-genoa.json", "", "2029-08-21T11:50:30Z", "", "d9912ba396ce409c"},
      {kRs + "snp/test-report.bin", kRs + "snp/test-vcek.der", "2026-07-26T05:58:26Z", "",
       "a1f3930413247bb3"},
      {kRs + "snp/test-vlek-report.bin", kRs + "snp/test-vlek.der", "2025-06-11T10:14:21Z", "",
       "8922ebbdd00ec2c5"},
      {kRs + "az_snp/hcl-report.bin", kRs + "az_snp/vcek.pem", "2026-11-01T09:22:19Z", "",
       "9ac48fcac8a2d88a"},
      {kRs + "az_snp/hcl-report.bin", kRs + "az_snp/imds-vcek.der", "2028-07-24T19:38:01Z",
       "snp.report.signature_invalid", ""},
      {kRs + "snp/test-report.bin", kRs + "snp/test-vcek-invalid-legacy.der",
       "2026-08-05T10:41:55Z", "snp.chain.signature_invalid", ""},
      {kRs + "snp/test-report.bin", kRs + "snp/test-vcek-invalid-new.der", "2027-02-16T02:27:09Z",
       "snp.chain.signature_invalid", ""},
      {kTr + "az-snp-vtpm/hcl-report.bin", kTr + "az-snp-vtpm/vcek.pem", "2026-11-01T09:22:19Z", "",
       "9ac48fcac8a2d88a"},
      {kRs + "az_snp/evidence-v1.json", "", "2026-11-01T09:22:19Z", "", "9ac48fcac8a2d88a"},
      {kRs + "az_snp/live-evidence.json", "", "2028-07-24T19:38:01Z", "", "6a063be9dd79f637"},
      {kTr + "az-snp-vtpm/evidence-genoa.json", "", "2028-07-25T02:21:48Z", "", "f57dc09a507c6ecd"},
      {kTr + "az-snp-vtpm/evidence-v0.json", "", "2028-07-29T16:26:55Z", "", "6a063be9dd79f637"},
      {kTr + "az-snp-vtpm/evidence-v1.json", "", "2028-07-29T16:26:55Z", "", "6a063be9dd79f637"},
      {kTr + "az-snp-vtpm/evidence-v2.json", "", "2028-07-29T16:33:43Z", "", "5b0ce64ad1c1f637"},
      {"trustee/attestation-service/tests/e2e/evidence.json", "", "2028-11-26T05:57:03Z", "",
       "6a6519d757e68c2e"},
      {"go-sev-guest/verify/testdata/attestation.bin", "go-sev-guest/verify/testdata/vcek.testcer",
       "2026-03-25T12:55:28Z", "", "b07af9620f3b839b"},
      {"virtee-sev/tests/certs_data/report_milan.hex", "virtee-sev/tests/certs_data/vcek_milan.der",
       "2026-10-03T07:23:43Z", "", "7a1e5c266c0108db"},
  };
}

Result<SnpVerification> VerifyRow(const Row& row, const std::string& as_of) {
  Bytes file = ReadEvidence(row.report);
  // Kept inside its Result (not moved out): GCC 12 at -O2 reports a false "maybe-uninitialized"
  // on the moved-from optional<vector> member otherwise.
  Result<DecodedReport> decoded = DecodeReportContainer(file);
  if (!decoded.ok()) return decoded.error();
  LUNAL_ASSIGN_OR_RETURN(Timestamp t, ParseRfc3339(as_of));
  VerifyOptions options{.as_of = t};
  options.signing_cert = row.cert.empty() ? decoded->vcek : ReadEvidence(row.cert);
  return VerifyReport(decoded->report, options);
}

class ReadmeVerdictTest : public ::testing::TestWithParam<Row> {};

TEST_P(ReadmeVerdictTest, GivesTheReadmeVerdict) {
  const Row& row = GetParam();
  auto result = VerifyRow(row, row.as_of);
  if (row.reason.empty()) {
    ASSERT_TRUE(result.ok()) << result.error();
    EXPECT_EQ(HexEncode(result->measurement).substr(0, 16), row.measurement_prefix);
    EXPECT_NE(result->certificate_chain.find("(pinned)"), std::string::npos)
        << result->certificate_chain;
  } else {
    ASSERT_FALSE(result.ok()) << "expected " << row.reason;
    EXPECT_EQ(result.error().reason(), row.reason) << result.error();
  }
}

INSTANTIATE_TEST_SUITE_P(Readme, ReadmeVerdictTest, ::testing::ValuesIn(Rows()));

TEST(VerifyTest, VlekExpiresAfterItsNotAfter) {
  Row row = Rows()[3];
  auto result = VerifyRow(row, "2025-12-11T00:00:00Z");  // the VLEK expired 2025-12-10
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason(), "snp.chain.cert_expired") << result.error();
}

TEST(VerifyTest, ReportsProductAndSigningKey) {
  auto genoa = VerifyRow(Rows()[0], Rows()[0].as_of);
  ASSERT_TRUE(genoa.ok()) << genoa.error();
  EXPECT_EQ(genoa->product, Product::kGenoa);
  EXPECT_EQ(genoa->product_source, "cpuid");
  EXPECT_EQ(genoa->version, 5u);
  auto vlek = VerifyRow(Rows()[3], Rows()[3].as_of);
  ASSERT_TRUE(vlek.ok()) << vlek.error();
  EXPECT_EQ(vlek->signing_key, SigningKey::kVlek);
  EXPECT_EQ(vlek->product, Product::kMilan);
  auto v2 = VerifyRow(Rows()[2], Rows()[2].as_of);
  ASSERT_TRUE(v2.ok()) << v2.error();
  EXPECT_EQ(v2->product_source, "certificate issuer");
  auto debug = VerifyRow(Rows()[16], Rows()[16].as_of);
  ASSERT_TRUE(debug.ok()) << debug.error();
  EXPECT_TRUE(debug->debug);
}

}  // namespace
}  // namespace lunal::attest::snp
