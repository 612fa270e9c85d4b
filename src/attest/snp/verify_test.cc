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

#include <atomic>
#include <thread>

#include "fake_amd.h"
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

// ../shared/evidence/README.md: test-vlek-report.bin verifies before 2025-12-10 and fails after
// with "VLEK expired". The VLEK's notAfter is 2025-12-10T22:14:21Z; a certificate is valid for
// notBefore <= t < notAfter (OpenSSL, as RFC 5280 §4.1.2.5 is read by it).
TEST(VerifyTest, VlekExpiresAtItsNotAfter) {
  const Row row = Rows()[3];
  for (const char* before : {"2025-12-09T23:59:59Z", "2025-12-10T22:14:20Z"}) {
    auto ok = VerifyRow(row, before);
    EXPECT_TRUE(ok.ok()) << before << ": " << ok.error();
  }
  for (const char* after :
       {"2025-12-10T22:14:21Z", "2025-12-11T00:00:00Z", "2030-01-01T00:00:00Z"}) {
    SCOPED_TRACE(after);
    auto result = VerifyRow(row, after);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().reason(), "snp.vlek.expired") << result.error();
    EXPECT_EQ(result.error().code(), Code::kVerificationFailed);
    EXPECT_TRUE(
        result.error().message().starts_with("VLEK expired: its notAfter is "
                                             "2025-12-10T22:14:21Z"))
        << result.error().message();
  }
}

TEST(VerifyTest, VcekExpiresAtItsNotAfter) {
  const Row row = Rows()[0];  // live-vcek-genoa.der: notAfter 2033-02-17T23:01:36Z
  EXPECT_TRUE(VerifyRow(row, "2033-02-17T23:01:35Z").ok());
  auto result = VerifyRow(row, "2033-02-17T23:01:36Z");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason(), "snp.vcek.expired") << result.error();
  EXPECT_TRUE(
      result.error().message().starts_with("VCEK expired: its notAfter is "
                                           "2033-02-17T23:01:36Z"))
      << result.error().message();
}

// An expired ASK/ASVK keeps the chain's reason: only the signing certificate is named "expired".
TEST(VerifyTest, AnExpiredAskIsAChainError) {
  for (SigningKey key : {SigningKey::kVcek, SigningKey::kVlek}) {
    auto amd = testing::FakeAmd::Make(key, "2029-01-01T00:00:00Z").value();
    auto result =
        Verifier({amd.roots})
            .Verify(amd.report, {.as_of = amd.as_of, .signing_cert = testing::DerOf(amd.leaf)});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().reason(), "snp.chain.cert_expired") << result.error();
  }
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

// ---- Verifier: the warm cache gives VerifyReport's results ----

std::string Outcome(const Result<SnpVerification>& r) {
  return r.ok() ? r->ToJson().dump() : r.error().ToString();
}
std::string ReasonOf(const Result<SnpVerification>& r) {
  return r.ok() ? "ok" : r.error().reason();
}

Result<SnpVerification> VerifyRowWith(const Verifier& verifier, const Row& row,
                                      const std::string& as_of) {
  Result<DecodedReport> decoded = DecodeReportContainer(ReadEvidence(row.report));
  if (!decoded.ok()) return decoded.error();
  VerifyOptions options{.as_of = ParseRfc3339(as_of).value()};
  options.signing_cert = row.cert.empty() ? decoded->vcek : ReadEvidence(row.cert);
  return verifier.Verify(decoded->report, options);
}

// Every README row, cold and warm on one Verifier, equals VerifyReport (whole JSON or error).
TEST(VerifierTest, WarmResultsEqualVerifyReport) {
  Verifier verifier;
  for (int pass = 0; pass < 2; ++pass) {
    for (const Row& row : Rows()) {
      SCOPED_TRACE(::testing::Message() << "pass " << pass << ": " << row.report);
      EXPECT_EQ(Outcome(VerifyRowWith(verifier, row, row.as_of)),
                Outcome(VerifyRow(row, row.as_of)));
    }
  }
  // One entry per distinct certificate that verified (failures are not cached): the 18 rows use
  // 11 distinct accepted certificates.
  EXPECT_GT(verifier.CacheSize(), 0u);
  EXPECT_LE(verifier.CacheSize(), Rows().size());
}

TEST(VerifierTest, AnAsOfOutsideTheWindowValidatesAgain) {
  const Row row = Rows()[0];  // VCEK valid 2026-02-17T23:01:36Z .. 2033-02-17T23:01:36Z
  Verifier verifier;
  auto warm = VerifyRowWith(verifier, row, row.as_of);
  ASSERT_TRUE(warm.ok()) << warm.error();
  EXPECT_EQ(warm->collateral_valid_until, ParseRfc3339("2033-02-17T23:01:36Z").value());
  ASSERT_EQ(verifier.CacheSize(), 1u);
  for (const char* as_of : {"2033-02-17T23:01:36Z", "2040-01-01T00:00:00Z", "2026-02-17T23:01:35Z",
                            "2026-02-17T23:01:36Z", "2033-02-17T23:01:35Z", row.as_of.c_str()}) {
    SCOPED_TRACE(as_of);
    EXPECT_EQ(Outcome(VerifyRowWith(verifier, row, as_of)), Outcome(VerifyRow(row, as_of)));
  }
  EXPECT_EQ(ReasonOf(VerifyRowWith(verifier, row, "2033-02-17T23:01:36Z")), "snp.vcek.expired");
  EXPECT_EQ(ReasonOf(VerifyRowWith(verifier, row, "2026-02-17T23:01:35Z")),
            "snp.chain.cert_not_yet_valid");
  EXPECT_TRUE(VerifyRowWith(verifier, row, row.as_of).ok());
}

// The CRL's nextUpdate closes the window too, and other CRLs are another entry.
TEST(VerifierTest, CrlsAreKeyedAndBoundTheWindow) {
  auto amd = testing::FakeAmd::Make(SigningKey::kVcek).value();
  Verifier verifier({amd.roots});
  auto crl = amd.CrlFrom(amd.roots.ark, "2029-08-01T00:00:00Z", "2029-09-01T00:00:00Z").value();
  auto revoking =
      amd.CrlFrom(amd.roots.ark, "2029-08-01T00:00:00Z", "2029-09-01T00:00:00Z", {"20002"}).value();
  auto verify = [&](const crypto::Crl& c, const char* as_of) {
    VerifyOptions options{.as_of = ParseRfc3339(as_of).value(),
                          .signing_cert = testing::DerOf(amd.leaf),
                          .crls = {testing::DerOf(c)}};
    auto result = verifier.Verify(amd.report, options);
    return result.ok() ? std::string("ok") : result.error().reason();
  };
  EXPECT_EQ(verify(crl, "2029-08-19T11:01:36Z"), "ok");
  EXPECT_EQ(verify(crl, "2029-08-31T23:59:59Z"), "ok");
  EXPECT_EQ(verify(crl, "2029-09-01T00:00:00Z"), "snp.crl.expired");
  EXPECT_EQ(verify(crl, "2029-07-31T23:59:59Z"), "snp.crl.not_yet_valid");
  EXPECT_EQ(verify(revoking, "2029-08-19T11:01:36Z"), "snp.chain.cert_revoked");
  EXPECT_EQ(verifier.CacheSize(), 1u);
  // require_crl on a warm entry that applied no ARK CRL.
  VerifyOptions without{.as_of = amd.as_of, .signing_cert = testing::DerOf(amd.leaf)};
  EXPECT_TRUE(verifier.Verify(amd.report, without).ok());
  without.require_crl = true;
  EXPECT_EQ(ReasonOf(verifier.Verify(amd.report, without)), "snp.crl.missing");
}

// What the report says (key kind, product) is checked against a warm entry on every call.
TEST(VerifierTest, KindAndProductAreCheckedOnEveryCall) {
  Verifier verifier;
  const Row genoa = Rows()[0];
  ASSERT_TRUE(VerifyRowWith(verifier, genoa, genoa.as_of).ok());
  Bytes vlek_flagged = ReadEvidence(genoa.report);
  vlek_flagged.at(0x48) = static_cast<std::uint8_t>(vlek_flagged.at(0x48) | 0x04);  // VLEK
  VerifyOptions options{.as_of = ParseRfc3339(genoa.as_of).value(),
                        .signing_cert = ReadEvidence(genoa.cert)};
  EXPECT_EQ(Outcome(verifier.Verify(vlek_flagged, options)),
            Outcome(VerifyReport(vlek_flagged, options)));
  EXPECT_EQ(ReasonOf(verifier.Verify(vlek_flagged, options)), "snp.vcek.wrong_kind");
  // The Milan VCEK, warm from its own v2 report, then given for the Genoa report (CPUID: Genoa).
  const Row milan = Rows()[2];
  ASSERT_TRUE(VerifyRowWith(verifier, milan, milan.as_of).ok());
  options.signing_cert = ReadEvidence(milan.cert);
  options.as_of = ParseRfc3339(milan.as_of).value();
  auto mismatch = verifier.Verify(ReadEvidence(genoa.report), options);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(Outcome(mismatch), Outcome(VerifyReport(ReadEvidence(genoa.report), options)));
  EXPECT_EQ(mismatch.error().reason().substr(0, 10), "snp.chain.");
}

TEST(VerifierTest, TheCacheIsBounded) {
  Verifier verifier(/*max_cache_entries=*/2);
  // Five rows with distinct accepted certificates.
  const std::vector<Row> rows = Rows();
  for (std::size_t i : {0u, 2u, 3u, 4u, 16u}) {
    const Row& row = rows[i];
    auto result = VerifyRowWith(verifier, row, row.as_of);
    ASSERT_TRUE(result.ok()) << row.report << ": " << result.error();
    EXPECT_LE(verifier.CacheSize(), 2u);
  }
  EXPECT_EQ(verifier.CacheSize(), 2u);
  // Evicted ones verify again (cold).
  EXPECT_TRUE(VerifyRowWith(verifier, Rows()[0], Rows()[0].as_of).ok());
  Verifier uncached(/*max_cache_entries=*/0);
  EXPECT_TRUE(VerifyRowWith(uncached, Rows()[0], Rows()[0].as_of).ok());
  EXPECT_EQ(uncached.CacheSize(), 0u);
}

TEST(VerifierTest, ManyThreadsShareOneVerifier) {
  Verifier verifier(/*max_cache_entries=*/1);  // two certificates: entries replace each other
  const std::vector<Row> rows = Rows();
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const Row& row = rows[(t + i) % 2 == 0 ? 0 : 2];
        if (!VerifyRowWith(verifier, row, row.as_of).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(verifier.CacheSize(), 1u);
}

}  // namespace
}  // namespace lunal::attest::snp
