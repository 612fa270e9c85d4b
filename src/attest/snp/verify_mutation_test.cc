// VerifyReport on edited real reports: every signed field, the signature, the certificate kind,
// missing inputs. Each case asserts the stable reason.
#include <gtest/gtest.h>

#include <functional>

#include "fake_amd.h"
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

// The failure paths of CRLs and expiry, on the real Genoa report and VCEK.
TEST(VerifyMutationTest, CrlAndExpiryRows) {
  const Bytes report = ReadEvidence(testing::kReportV5);
  auto fake = testing::FakeAmd::Make(SigningKey::kVcek).value();
  const Bytes impostor = testing::DerOf(
      fake.CrlFrom(fake.roots.ark, "2029-08-01T00:00:00Z", "2029-09-01T00:00:00Z").value());
  struct Case {
    std::string name;
    std::function<void(VerifyOptions&)> edit;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"no edit", [](VerifyOptions&) {}, "ok"},
      {"CRL not DER", [](VerifyOptions& o) { o.crls = {ToBytes("garbage")}; },
       "snp.crl.unparsable"},
      {"CRL truncated",
       [&](VerifyOptions& o) { o.crls = {Bytes(impostor.begin(), impostor.end() - 1)}; },
       "snp.crl.unparsable"},
      {"CRL named ARK-Genoa, signed by another key", [&](VerifyOptions& o) { o.crls = {impostor}; },
       "snp.crl.signature_invalid"},
      {"require_crl without a CRL", [](VerifyOptions& o) { o.require_crl = true; },
       "snp.crl.missing"},
      {"as_of at the VCEK's notAfter",
       [](VerifyOptions& o) { o.as_of = ParseRfc3339("2033-02-17T23:01:36Z").value(); },
       "snp.vcek.expired"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    VerifyOptions options = GenoaOptions();
    c.edit(options);
    EXPECT_EQ(ReasonOf(report, options), c.reason);
  }
}

// Every byte of a CRL the (fake) ARK signed, flipped: it no longer parses, or no longer verifies.
TEST(VerifyMutationTest, EveryByteOfACrl) {
  auto fake = testing::FakeAmd::Make(SigningKey::kVcek).value();
  const Bytes crl = testing::DerOf(
      fake.CrlFrom(fake.roots.ark, "2029-08-01T00:00:00Z", "2029-09-01T00:00:00Z", {"20101"})
          .value());
  Verifier verifier({fake.roots});
  VerifyOptions options{.as_of = fake.as_of, .signing_cert = testing::DerOf(fake.leaf)};
  options.crls = {crl};
  ASSERT_TRUE(verifier.Verify(fake.report, options).ok());
  for (std::size_t i = 0; i < crl.size(); ++i) {
    options.crls = {crl};
    options.crls[0].at(i) ^= 0x01;
    auto result = verifier.Verify(fake.report, options);
    const std::string reason = result.ok() ? "ok" : result.error().reason();
    EXPECT_TRUE(reason == "snp.crl.unparsable" || reason == "snp.crl.signature_invalid")
        << "byte " << i << ": " << reason;
  }
}

}  // namespace
}  // namespace lunal::attest::snp
