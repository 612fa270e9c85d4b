// AMD CRLs in the pipeline (verify.h, "CRLs"). No AMD CRL is in ../shared/evidence and AMD's
// keys sign the real ones, so the CRLs here come from a fake AMD-shaped Genoa hierarchy
// (fake_amd.h) that a Verifier trusts only when told to. The real ARK then shows that a CRL with
// its name but another key is refused, and the openssl CLI makes an RSASSA-PSS SHA-384 CRL like
// KDS's.
#include <gtest/gtest.h>

#include "fake_amd.h"
#include "lunal/attest/snp/verify.h"
#include "lunal/crypto/x509_builder.h"
#include "lunal/testing/testing.h"
#include "revocation.h"
#include "test_reports.h"

namespace lunal::attest::snp {
namespace {

using testing::DerOf;
using testing::FakeAmd;
using testing::ReadEvidence;

const std::string kSnp = "lunal-attestation-rs/crates/attestation/test_data/snp/";

Timestamp At(std::string_view rfc3339) { return ParseRfc3339(rfc3339).value(); }

FakeAmd Fake(SigningKey key = SigningKey::kVcek) { return FakeAmd::Make(key).value(); }

// The fake report under the fake roots, with these CRLs.
Result<SnpVerification> VerifyFake(const FakeAmd& amd, const std::vector<crypto::Crl>& crls,
                                   bool require_crl = false) {
  VerifyOptions options{.as_of = amd.as_of, .signing_cert = DerOf(amd.leaf)};
  for (const crypto::Crl& crl : crls) options.crls.push_back(DerOf(crl));
  options.require_crl = require_crl;
  return Verifier({amd.roots}).Verify(amd.report, options);
}

std::string ReasonOf(const Result<SnpVerification>& result) {
  return result.ok() ? "ok" : result.error().reason();
}

// The real Genoa report and VCEK with these CRLs, under AMD's roots.
Result<SnpVerification> VerifyReal(const std::vector<Bytes>& crls, bool require_crl = false) {
  return VerifyReport(ReadEvidence(testing::kReportV5),
                      {.as_of = At("2029-08-19T11:01:36Z"),
                       .signing_cert = ReadEvidence(kSnp + "live-vcek-genoa.der"),
                       .crls = crls,
                       .require_crl = require_crl});
}

// An August 2029 CRL (current at the fake's as-of time, 2029-08-19T11:01:36Z).
crypto::Crl August(const FakeAmd& amd, const crypto::Certificate& issuer,
                   const std::vector<std::string>& revoked = {}) {
  return amd.CrlFrom(issuer, "2029-08-01T00:00:00Z", "2029-09-01T00:00:00Z", revoked).value();
}

TEST(SnpCrlTest, FakeHierarchyVerifiesOnlyUnderItsOwnRoots) {
  for (SigningKey key : {SigningKey::kVcek, SigningKey::kVlek}) {
    FakeAmd amd = Fake(key);
    auto result = VerifyFake(amd, {});
    ASSERT_TRUE(result.ok()) << result.error();
    EXPECT_EQ(result->certificate_chain, key == SigningKey::kVlek
                                             ? "Fake ARK-Genoa (pinned) → SEV-VLEK-Genoa → SEV-VLEK"
                                             : "Fake ARK-Genoa (pinned) → SEV-Genoa → SEV-VCEK");
    EXPECT_FALSE(result->revocation_checked);
    // AMD's roots do not know the fake ARK.
    auto real_roots =
        VerifyReport(amd.report, {.as_of = amd.as_of, .signing_cert = DerOf(amd.leaf)});
    ASSERT_FALSE(real_roots.ok());
    EXPECT_EQ(real_roots.error().reason().substr(0, 10), "snp.chain.") << real_roots.error();
  }
}

TEST(SnpCrlTest, ACurrentArkCrlIsAppliedAndBoundsTheResult) {
  FakeAmd amd = Fake();
  auto result = VerifyFake(amd, {August(amd, amd.roots.ark)});
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_TRUE(result->revocation_checked);
  EXPECT_EQ(result->collateral_valid_until, At("2029-09-01T00:00:00Z"));
  EXPECT_EQ(result->ToJson()["platform_verification"]["revocation_checked"], true);
  // PEM is read as well.
  VerifyOptions pem{.as_of = amd.as_of, .signing_cert = DerOf(amd.leaf)};
  pem.crls = {ToBytes(August(amd, amd.roots.ark).ToPem())};
  auto from_pem = Verifier({amd.roots}).Verify(amd.report, pem);
  ASSERT_TRUE(from_pem.ok()) << from_pem.error();
  EXPECT_TRUE(from_pem->revocation_checked);
}

TEST(SnpCrlTest, TheArkCrlRevokesTheAskOrAsvk) {
  FakeAmd vcek = Fake(SigningKey::kVcek);
  auto revoked = VerifyFake(vcek, {August(vcek, vcek.roots.ark, {"20002"})});
  ASSERT_EQ(ReasonOf(revoked), "snp.chain.cert_revoked");
  EXPECT_EQ(revoked.error().code(), Code::kVerificationFailed);
  EXPECT_NE(revoked.error().message().find("the ASK \"SEV-Genoa\" (serial 20002) is revoked by "
                                           "the CRL of ARK-Genoa"),
            std::string::npos)
      << revoked.error();
  // The ASVK's serial does not touch a VCEK path, nor the ASK's a VLEK path.
  EXPECT_EQ(ReasonOf(VerifyFake(vcek, {August(vcek, vcek.roots.ark, {"20101"})})), "ok");
  FakeAmd vlek = Fake(SigningKey::kVlek);
  EXPECT_EQ(ReasonOf(VerifyFake(vlek, {August(vlek, vlek.roots.ark, {"20002"})})), "ok");
  auto asvk = VerifyFake(vlek, {August(vlek, vlek.roots.ark, {"20101"})});
  ASSERT_EQ(ReasonOf(asvk), "snp.chain.cert_revoked");
  EXPECT_NE(asvk.error().message().find("the ASVK \"SEV-VLEK-Genoa\""), std::string::npos)
      << asvk.error();
  // The ARK listing itself.
  auto ark = VerifyFake(vcek, {August(vcek, vcek.roots.ark, {"20000"})});
  ASSERT_EQ(ReasonOf(ark), "snp.chain.cert_revoked");
  EXPECT_NE(ark.error().message().find("the ARK \"ARK-Genoa\""), std::string::npos);
}

// RFC 5280 §5.1.2.6: an entry names a certificate of the CRL's issuer. AMD's VCEKs all have
// serial 0 and are issued by the ASK, so "0" in the ARK's CRL is not the VCEK; in the ASK's it is.
TEST(SnpCrlTest, TheLeafIsRevokedOnlyByItsIssuersCrl) {
  FakeAmd vcek = Fake(SigningKey::kVcek);
  ASSERT_EQ(vcek.leaf.SerialHex(), "0");
  EXPECT_EQ(ReasonOf(VerifyFake(vcek, {August(vcek, vcek.roots.ark, {"0"})})), "ok");
  auto by_ask =
      VerifyFake(vcek, {August(vcek, vcek.roots.ark), August(vcek, vcek.roots.ask, {"0"})});
  ASSERT_EQ(ReasonOf(by_ask), "snp.chain.cert_revoked");
  EXPECT_NE(by_ask.error().message().find("the VCEK \"SEV-VCEK\" (serial 0) is revoked by the CRL "
                                          "of SEV-Genoa"),
            std::string::npos)
      << by_ask.error();

  FakeAmd vlek = Fake(SigningKey::kVlek);
  auto by_asvk = VerifyFake(vlek, {August(vlek, vlek.roots.asvk, {"0"})});
  ASSERT_EQ(ReasonOf(by_asvk), "snp.chain.cert_revoked");
  EXPECT_NE(by_asvk.error().message().find("the VLEK \"SEV-VLEK\""), std::string::npos);
  // The ASK's CRL says nothing about a VLEK: ignored (its signature is not even checked).
  EXPECT_EQ(ReasonOf(VerifyFake(vlek, {August(vlek, vlek.roots.ask, {"0"})})), "ok");
}

// thisUpdate <= as_of < nextUpdate, at the boundaries (the fake's as-of is 2029-08-19T11:01:36Z).
TEST(SnpCrlTest, ACrlMustBeCurrent) {
  FakeAmd amd = Fake();
  struct Case {
    const char* this_update;
    std::optional<std::string_view> next_update;
    const char* reason;
  };
  const Case cases[] = {
      {"2029-08-19T11:01:36Z", "2029-09-01T00:00:00Z", "ok"},
      {"2029-08-19T11:01:37Z", "2029-09-01T00:00:00Z", "snp.crl.not_yet_valid"},
      {"2029-08-01T00:00:00Z", "2029-08-19T11:01:37Z", "ok"},
      {"2029-08-01T00:00:00Z", "2029-08-19T11:01:36Z", "snp.crl.expired"},
      {"2029-07-01T00:00:00Z", "2029-08-01T00:00:00Z", "snp.crl.expired"},
      {"2029-08-01T00:00:00Z", std::nullopt, "snp.crl.expired"},  // would never expire
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.this_update << " .. " << c.next_update.value_or("none"));
    for (const crypto::Certificate* issuer : {&amd.roots.ark, &amd.roots.ask}) {
      auto crl = amd.CrlFrom(*issuer, c.this_update, c.next_update).value();
      EXPECT_EQ(ReasonOf(VerifyFake(amd, {crl})), c.reason) << issuer->SubjectCommonName();
    }
  }
}

TEST(SnpCrlTest, ACrlSignedByAnotherKeyIsRefused) {
  FakeAmd amd = Fake();
  // The fake ARK's CRL carries the real ARK-Genoa's name: under AMD's roots it is an impostor.
  auto real_ark = AmdCertificatesFor(Product::kGenoa).value().ark;
  ASSERT_EQ(amd.roots.ark.SubjectName(), real_ark.SubjectName());
  auto impostor = VerifyReal({DerOf(August(amd, amd.roots.ark))});
  ASSERT_EQ(ReasonOf(impostor), "snp.crl.signature_invalid");
  EXPECT_EQ(impostor.error().code(), Code::kVerificationFailed);
  // Within the fake hierarchy: a second one's CRLs, same names, other keys.
  FakeAmd other = Fake();
  EXPECT_EQ(ReasonOf(VerifyFake(amd, {August(other, other.roots.ark)})),
            "snp.crl.signature_invalid");
  EXPECT_EQ(ReasonOf(VerifyFake(amd, {August(other, other.roots.ask)})),
            "snp.crl.signature_invalid");
  // A CRL from no AMD certificate at all.
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEcP384).value();
  crypto::CertificateBuilder ca;
  ca.SubjectCommonName("Some CA")
      .Validity(ToSeconds(At("2020-01-01T00:00:00Z")), ToSeconds(At("2040-01-01T00:00:00Z")))
      .Ca(true);
  auto ca_cert = ca.SelfSign(key).value();
  auto stranger =
      crypto::CrlBuilder()
          .Updates(ToSeconds(At("2029-08-01T00:00:00Z")), ToSeconds(At("2029-09-01T00:00:00Z")))
          .Sign(ca_cert, key)
          .value();
  auto refused = VerifyFake(amd, {stranger});
  ASSERT_EQ(ReasonOf(refused), "snp.crl.signature_invalid");
  EXPECT_NE(refused.error().message().find("no AMD ARK, ASK or ASVK"), std::string::npos);
}

TEST(SnpCrlTest, RequireCrl) {
  FakeAmd amd = Fake();
  auto none = VerifyFake(amd, {}, /*require_crl=*/true);
  ASSERT_EQ(ReasonOf(none), "snp.crl.missing");
  EXPECT_EQ(none.error().code(), Code::kUnavailable);
  // The ASK's CRL is not the ARK's.
  EXPECT_EQ(ReasonOf(VerifyFake(amd, {August(amd, amd.roots.ask)}, true)), "snp.crl.missing");
  auto with_ark = VerifyFake(amd, {August(amd, amd.roots.ark)}, true);
  ASSERT_TRUE(with_ark.ok()) << with_ark.error();
  EXPECT_TRUE(with_ark->revocation_checked);
  // Real evidence: no CRL given.
  EXPECT_EQ(ReasonOf(VerifyReal({}, true)), "snp.crl.missing");
  EXPECT_EQ(ReasonOf(VerifyReal({})), "ok");
}

// Another product's CRL does not apply to a Genoa report: ignored (even one we could not verify),
// so it neither fails the report nor satisfies require_crl.
TEST(SnpCrlTest, AnotherProductsCrlIsIgnored) {
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEcP384).value();
  crypto::CertificateBuilder milan;
  testing::AddAmdSubject(milan, "ARK-Milan");
  milan.Validity(ToSeconds(At("2020-01-01T00:00:00Z")), ToSeconds(At("2045-01-01T00:00:00Z")))
      .Ca(true);
  auto ark_milan = milan.SelfSign(key).value();
  ASSERT_EQ(ark_milan.SubjectName(), AmdCertificatesFor(Product::kMilan).value().ark.SubjectName());
  auto crl =
      crypto::CrlBuilder()
          .Updates(ToSeconds(At("2029-08-01T00:00:00Z")), ToSeconds(At("2029-09-01T00:00:00Z")))
          .Revoke("20002", ToSeconds(At("2029-08-01T00:00:00Z")))
          .Sign(ark_milan, key)
          .value();
  auto ignored = VerifyReal({DerOf(crl)});
  ASSERT_TRUE(ignored.ok()) << ignored.error();
  EXPECT_FALSE(ignored->revocation_checked);
  EXPECT_EQ(ReasonOf(VerifyReal({DerOf(crl)}, true)), "snp.crl.missing");
}

TEST(SnpCrlTest, UnparsableCrls) {
  FakeAmd amd = Fake();
  Bytes der = DerOf(August(amd, amd.roots.ark));
  Bytes truncated(der.begin(), der.end() - 1);
  Bytes trailing = der;
  trailing.push_back(0);
  for (const Bytes& bad : {ToBytes("not a CRL"), truncated, trailing, Bytes{}}) {
    VerifyOptions options{.as_of = amd.as_of, .signing_cert = DerOf(amd.leaf), .crls = {der, bad}};
    auto result = Verifier({amd.roots}).Verify(amd.report, options);
    ASSERT_EQ(ReasonOf(result), "snp.crl.unparsable");
    EXPECT_EQ(result.error().code(), Code::kMalformed);
    EXPECT_NE(result.error().message().find("CRL 1 "), std::string::npos) << result.error();
  }
}

// KDS signs its CRLs with the ARK's RSA key, RSASSA-PSS SHA-384 salt 48. The openssl CLI makes one
// (an RSA "ARK-Genoa" and its CRL listing the ASK's serial); step 7 reads it like KDS's.
TEST(SnpCrlTest, RsaPssCrlAsKdsSignsThem) {
  if (!lunal::testing::HaveProgram("openssl")) GTEST_SKIP() << "no openssl CLI";
  lunal::testing::TempDir dir;
  auto run = [&](std::vector<std::string> argv) {
    lunal::testing::ProcessOptions options;
    options.cwd = dir.path();
    auto r = lunal::testing::RunProcess(argv, options);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  const std::vector<std::string> pss = {"-sigopt", "rsa_padding_mode:pss", "-sigopt",
                                        "rsa_pss_saltlen:48"};
  std::vector<std::string> req = {
      "openssl",  "req",
      "-x509",    "-newkey",
      "rsa:2048", "-nodes",
      "-keyout",  "ark.key",
      "-subj",    "/OU=Engineering/C=US/L=Santa Clara/ST=CA/O=Advanced Micro Devices/CN=ARK-Genoa",
      "-days",    "36500",
      "-sha384",  "-out",
      "ark.pem"};
  req.insert(req.end(), pss.begin(), pss.end());
  run(req);
  lunal::testing::WriteFile(dir / "index.txt",
                            "R\t470101000000Z\t250101000000Z\t020002\tunknown\t/CN=SEV-Genoa\n");
  lunal::testing::WriteFile(dir / "crlnumber", "01\n");
  lunal::testing::WriteFile(dir / "ca.cnf",
                            "[ca]\ndefault_ca = amd\n[amd]\ndatabase = index.txt\n"
                            "crlnumber = crlnumber\ndefault_md = sha384\ndefault_crl_days = 30\n");
  std::vector<std::string> gencrl = {"openssl", "ca",    "-gencrl", "-config", "ca.cnf", "-keyfile",
                                     "ark.key", "-cert", "ark.pem", "-out",    "crl.pem"};
  gencrl.insert(gencrl.end(), pss.begin(), pss.end());
  run(gencrl);
  if (HasFatalFailure()) return;

  auto ark = crypto::Certificate::FromPem(lunal::testing::ReadFileText(dir / "ark.pem")).value();
  ASSERT_EQ(ark.SignatureAlgorithm(), "RSASSA-PSS");
  Bytes crl_pem = lunal::testing::ReadFileBytes(dir / "crl.pem");
  auto crl = crypto::Crl::FromDerOrPem(crl_pem).value();
  // The fake ASK has AMD's Genoa names and serial: its issuer is "ARK-Genoa".
  FakeAmd amd = Fake();
  const internal::AmdPath path{.product = Product::kGenoa,
                               .key = SigningKey::kVcek,
                               .leaf = amd.leaf,
                               .intermediate = amd.roots.ask,
                               .ark = ark};
  const Timestamp now = FromSeconds(crl.ThisUpdate()) + std::chrono::hours(1);
  std::vector<AmdCertificates> roots = {amd.roots};
  roots[0].ark = ark;
  auto revoked = internal::CheckRevocation(std::vector{crl}, path, roots, now, false);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(revoked.error().reason(), "snp.chain.cert_revoked") << revoked.error();
  // The same CRL does not list the ASVK: a VLEK path passes, with the ARK's CRL applied.
  const internal::AmdPath vlek_path{.product = Product::kGenoa,
                                    .key = SigningKey::kVlek,
                                    .leaf = amd.leaf,
                                    .intermediate = amd.roots.asvk,
                                    .ark = ark};
  auto passes = internal::CheckRevocation(std::vector{crl}, vlek_path, roots, now, true);
  ASSERT_TRUE(passes.ok()) << passes.error();
  EXPECT_TRUE(passes->ark_crl_applied);
  // One bit of the signature flipped.
  Bytes der = DerOf(crl);
  der.back() ^= 0x01;
  auto tampered = crypto::Crl::FromDer(der).value();
  EXPECT_EQ(
      internal::CheckRevocation(std::vector{tampered}, path, roots, now, false).status().reason(),
      "snp.crl.signature_invalid");
}

}  // namespace
}  // namespace lunal::attest::snp
