// VerifyReport on edited real reports: every signed field, the signature, the certificate kind,
// missing inputs. Each case asserts the stable reason.
#include <gtest/gtest.h>

#include "lunal/attest/snp/report_layout.h"
#include "lunal/attest/snp/verify.h"
#include "test_reports.h"

namespace lunal::attest::snp {
namespace {

namespace L = layout;
using testing::ReadEvidence;
const std::string kSnp = "lunal-attestation-rs/crates/attestation/test_data/snp/";

VerifyOptions GenoaOptions() {
  return VerifyOptions{.as_of = ParseRfc3339("2029-08-19T11:01:36Z").value(),
                       .signing_cert = ReadEvidence(kSnp + "live-vcek-genoa.der")};
}

std::string ReasonOf(const Bytes& report, const VerifyOptions& options) {
  auto result = VerifyReport(report, options);
  return result.ok() ? "ok" : result.error().reason();
}

TEST(VerifyMutationTest, EverySignedFieldIsCovered) {
  const Bytes original = ReadEvidence(testing::kReportV5);
  ASSERT_EQ(ReasonOf(original, GenoaOptions()), "ok");
  // One byte in each non-reserved signed field (reserved ones fail parsing instead).
  const L::Field fields[] = {
      L::kGuestSvn,       L::kFamilyId,     L::kImageId,         L::kVmpl,
      L::kCurrentTcb,     L::kPlatformInfo, L::kReportData,      L::kMeasurement,
      L::kHostData,       L::kIdKeyDigest,  L::kAuthorKeyDigest, L::kReportId,
      L::kReportIdMa,     L::kCpuidStep,    L::kCommittedTcb,    L::kCurrentBuild,
      L::kCommittedMinor, L::kLaunchTcb,    L::kLaunchMitVector, L::kCurrentMitVector};
  for (const L::Field& f : fields) {
    SCOPED_TRACE(::testing::Message() << "offset 0x" << std::hex << f.offset);
    Bytes bytes = original;
    bytes.at(f.offset) ^= 0x04;
    EXPECT_EQ(ReasonOf(bytes, GenoaOptions()), "snp.report.signature_invalid");
  }
  for (std::size_t offset : {L::kSignatureR.offset, L::kSignatureS.offset + 5}) {
    Bytes bytes = original;
    bytes.at(offset) ^= 0x01;
    EXPECT_EQ(ReasonOf(bytes, GenoaOptions()), "snp.report.signature_invalid");
  }
}

TEST(VerifyMutationTest, InputsAndKinds) {
  const Bytes report = ReadEvidence(testing::kReportV5);
  VerifyOptions no_cert = GenoaOptions();
  no_cert.signing_cert.reset();
  EXPECT_EQ(ReasonOf(report, no_cert), "snp.vcek.missing");
  VerifyOptions no_time = GenoaOptions();
  no_time.as_of = Timestamp{};
  EXPECT_EQ(ReasonOf(report, no_time), "snp.options.as_of");
  VerifyOptions garbage = GenoaOptions();
  garbage.signing_cert = ToBytes("not a certificate");
  EXPECT_EQ(ReasonOf(report, garbage), "snp.vcek.unparsable");
  // A VLEK certificate for a VCEK-signed report.
  VerifyOptions vlek = GenoaOptions();
  vlek.signing_cert = ReadEvidence(kSnp + "test-vlek.der");
  EXPECT_EQ(ReasonOf(report, vlek), "snp.vcek.wrong_kind");
  // A Milan VCEK for a Genoa report (CPUID says Genoa): no path to ARK-Genoa.
  VerifyOptions milan = GenoaOptions();
  milan.signing_cert = ReadEvidence(kSnp + "test-vcek.der");
  EXPECT_EQ(ReasonOf(report, milan).substr(0, 10), "snp.chain.");
  // Unsigned (SIGNING_KEY 7).
  Bytes unsigned_report = report;
  testing::PutU32(unsigned_report, L::kFlags.offset, 7u << 2);
  EXPECT_EQ(ReasonOf(unsigned_report, GenoaOptions()), "snp.report.unsigned");
  // Before the VCEK's notBefore (2026-02-17).
  VerifyOptions early = GenoaOptions();
  early.as_of = ParseRfc3339("2026-01-01T00:00:00Z").value();
  EXPECT_EQ(ReasonOf(report, early), "snp.chain.cert_not_yet_valid");
}

TEST(VerifyMutationTest, ExpectedReportData) {
  const Bytes report = ReadEvidence(testing::kReportV5);
  VerifyOptions options = GenoaOptions();
  options.expected_report_data = Bytes(report.begin() + 0x50, report.begin() + 0x90);
  EXPECT_EQ(ReasonOf(report, options), "ok");
  options.expected_report_data->at(0) ^= 1;
  EXPECT_EQ(ReasonOf(report, options), "snp.report_data.mismatch");
}

}  // namespace
}  // namespace lunal::attest::snp
