// Chain verification against a PKI built in the test with CertificateBuilder / CrlBuilder:
// validity, revocation, CRL policy, pinning, and interoperability with the `openssl` CLI.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "lunal/crypto/chain.h"
#include "lunal/crypto/x509_builder.h"
#include "test_support.h"

namespace lunal::crypto {
namespace {

using testing::At;
using testing::Hex;
using CrlPolicy = ChainOptions::CrlPolicy;
using std::chrono::sys_seconds;

class CryptoChainPki : public ::testing::Test {
 protected:
  void SetUp() override {
    root_key_ = *PrivateKey::Generate(KeyType::kEcP384);
    root_ = *CertificateBuilder()
                 .SubjectCommonName("Test Root CA")
                 .SubjectOrganization("Lunal Test")
                 .Validity(At("2025-01-01T00:00:00Z"), At("2045-01-01T00:00:00Z"))
                 .Ca(true, 1)
                 .Digest(DigestAlgorithm::kSha384)
                 .SelfSign(*root_key_);
    inter_key_ = *PrivateKey::Generate(KeyType::kEcP256);
    inter_ = *Intermediate(At("2025-01-01T00:00:00Z"), At("2035-01-01T00:00:00Z"), true);
    leaf_key_ = *PrivateKey::Generate(KeyType::kEcP256);
    leaf_ = *Leaf(At("2026-01-01T00:00:00Z"), At("2027-01-01T00:00:00Z"));
    root_crl_ =
        *RootCrl(CrlBuilder().Updates(At("2026-01-01T00:00:00Z"), At("2026-07-01T00:00:00Z")));
    inter_crl_ =
        *InterCrl(CrlBuilder().Updates(At("2026-02-01T00:00:00Z"), At("2026-04-01T00:00:00Z")));
  }

  Result<Certificate> Intermediate(sys_seconds not_before, sys_seconds not_after, bool is_ca) {
    return CertificateBuilder()
        .SubjectCommonName("Test Intermediate CA")
        .SubjectOrganization("Lunal Test")
        .Validity(not_before, not_after)
        .Ca(is_ca, 0)
        .KeyUsageBits(kKeyUsageKeyCertSign | kKeyUsageCrlSign)
        .SubjectKey(*inter_key_->PublicKey())
        .SignWith(*root_, *root_key_);
  }
  Result<Certificate> Leaf(sys_seconds not_before, sys_seconds not_after,
                           CertificateBuilder builder = CertificateBuilder()) {
    return builder.SubjectCommonName("leaf.example")
        .Validity(not_before, not_after)
        .SubjectKey(*leaf_key_->PublicKey())
        .SignWith(*inter_, *inter_key_);
  }
  Result<Crl> RootCrl(const CrlBuilder& builder) { return builder.Sign(*root_, *root_key_); }
  Result<Crl> InterCrl(const CrlBuilder& builder) { return builder.Sign(*inter_, *inter_key_); }

  ChainOptions Options() const {
    return {.as_of = At("2026-03-01T00:00:00Z"), .crls = {*root_crl_, *inter_crl_}};
  }
  std::vector<TrustAnchor> Pins() const { return {{root_->Sha256OfDer(), "Test Root CA"}}; }
  std::vector<Certificate> Inputs() const { return {*inter_, *root_}; }
  Result<VerifiedChain> Verify(const Certificate& leaf, const ChainOptions& options) const {
    return VerifyChain(leaf, Inputs(), Pins(), options);
  }

  std::optional<PrivateKey> root_key_, inter_key_, leaf_key_;
  std::optional<Certificate> root_, inter_, leaf_;
  std::optional<Crl> root_crl_, inter_crl_;
};

TEST_F(CryptoChainPki, Verifies) {
  auto chain = Verify(*leaf_, Options());
  ASSERT_TRUE(chain.has_value()) << chain.error();
  ASSERT_EQ(chain->path.size(), 3u);
  EXPECT_TRUE(chain->path[0] == *leaf_);
  EXPECT_TRUE(chain->path[2] == *root_);
  EXPECT_EQ(chain->Describe(), "Test Root CA (pinned) → Test Intermediate CA → leaf.example");
  // Input order does not matter and unrelated certificates are ignored.
  auto stranger = CertificateBuilder()
                      .SubjectCommonName("Unrelated")
                      .Validity(At("2025-01-01T00:00:00Z"), At("2030-01-01T00:00:00Z"))
                      .Ca(true)
                      .SelfSign(*PrivateKey::Generate(KeyType::kEcP256));
  std::vector<Certificate> shuffled = {*root_, *stranger, *inter_};
  EXPECT_OK(VerifyChain(*leaf_, shuffled, Pins(), Options()));
  // The pinned root on its own is a path of one.
  auto alone = VerifyChain(*root_, {}, Pins(), Options());
  ASSERT_TRUE(alone.has_value()) << alone.error();
  EXPECT_EQ(alone->Describe(), "Test Root CA (pinned)");
  // kRequireForEveryIssuer covers the root itself: without its own CRL even it fails.
  ChainOptions no_crl = Options();
  no_crl.crls = {*inter_crl_};
  EXPECT_ERROR(VerifyChain(*root_, {}, Pins(), no_crl), Code::kVerificationFailed,
               "crypto.chain.crl_missing");
}

TEST_F(CryptoChainPki, ExpiredAndNotYetValidCertificates) {
  auto expired = Verify(*Leaf(At("2025-01-01T00:00:00Z"), At("2026-02-28T23:59:59Z")), Options());
  EXPECT_ERROR(expired, Code::kVerificationFailed, "crypto.chain.cert_expired");
  EXPECT_NE(expired.error().message().find("CN=leaf.example"), std::string::npos);
  EXPECT_NE(expired.error().message().find("as of 2026-03-01T00:00:00Z"), std::string::npos);
  EXPECT_ERROR(Verify(*Leaf(At("2026-03-01T00:00:01Z"), At("2027-01-01T00:00:00Z")), Options()),
               Code::kVerificationFailed, "crypto.chain.cert_not_yet_valid");
  // The boundaries themselves are inside the validity period (RFC 5280 §4.1.2.5).
  EXPECT_OK(Verify(
      *Leaf(At("2026-03-01T00:00:00Z"), At("2026-03-01T00:00:00Z") + std::chrono::seconds(1)),
      Options()));
  // An expired intermediate is named in the message.
  inter_ = *Intermediate(At("2020-01-01T00:00:00Z"), At("2026-02-01T00:00:00Z"), true);
  auto expired_inter =
      Verify(*Leaf(At("2026-01-01T00:00:00Z"), At("2027-01-01T00:00:00Z")),
             {.as_of = At("2026-03-01T00:00:00Z"), .crl_policy = CrlPolicy::kNone});
  EXPECT_ERROR(expired_inter, Code::kVerificationFailed, "crypto.chain.cert_expired");
  EXPECT_NE(expired_inter.error().message().find("Test Intermediate CA"), std::string::npos);
}

TEST_F(CryptoChainPki, RevokedLeafAndIntermediate) {
  ChainOptions options = Options();
  options.crls = {*root_crl_,
                  *InterCrl(CrlBuilder()
                                .Updates(At("2026-02-01T00:00:00Z"), At("2026-04-01T00:00:00Z"))
                                .Revoke(leaf_->SerialHex(), At("2026-02-01T00:00:00Z")))};
  EXPECT_ERROR(Verify(*leaf_, options), Code::kVerificationFailed, "crypto.chain.revoked");
  options.crl_policy = CrlPolicy::kUseIfPresent;
  EXPECT_ERROR(Verify(*leaf_, options), Code::kVerificationFailed, "crypto.chain.revoked");
  options.crl_policy = CrlPolicy::kNone;  // by name: CRLs are not consulted at all
  EXPECT_OK(Verify(*leaf_, options));

  options = Options();
  options.crls = {*inter_crl_,
                  *RootCrl(CrlBuilder()
                               .Updates(At("2026-01-01T00:00:00Z"), At("2026-07-01T00:00:00Z"))
                               .Revoke(inter_->SerialHex(), At("2026-01-01T00:00:00Z")))};
  auto revoked = Verify(*leaf_, options);
  EXPECT_ERROR(revoked, Code::kVerificationFailed, "crypto.chain.revoked");
  EXPECT_NE(revoked.error().message().find("Test Intermediate CA"), std::string::npos);
}

TEST_F(CryptoChainPki, CrlPolicies) {
  ChainOptions options = Options();
  // Missing the intermediate's CRL (which covers the leaf).
  options.crls = {*root_crl_};
  EXPECT_ERROR(Verify(*leaf_, options), Code::kVerificationFailed, "crypto.chain.crl_missing");
  options.crl_policy = CrlPolicy::kUseIfPresent;
  EXPECT_OK(Verify(*leaf_, options));
  options.crl_policy = CrlPolicy::kNone;
  EXPECT_OK(Verify(*leaf_, options));
  // Missing the root's CRL (which covers the intermediate and the root).
  options = Options();
  options.crls = {*inter_crl_};
  EXPECT_ERROR(Verify(*leaf_, options), Code::kVerificationFailed, "crypto.chain.crl_missing");
  options.crls = {};
  EXPECT_ERROR(Verify(*leaf_, options), Code::kVerificationFailed, "crypto.chain.crl_missing");
}

TEST_F(CryptoChainPki, CrlTimesAndSignature) {
  ChainOptions options = Options();
  options.crls = {*root_crl_, *InterCrl(CrlBuilder().Updates(At("2026-01-01T00:00:00Z"),
                                                             At("2026-02-28T00:00:00Z")))};
  EXPECT_ERROR(Verify(*leaf_, options), Code::kVerificationFailed, "crypto.chain.crl_expired");
  options.crl_policy = CrlPolicy::kUseIfPresent;  // a stale CRL that is present still fails
  EXPECT_ERROR(Verify(*leaf_, options), Code::kVerificationFailed, "crypto.chain.crl_expired");
  options.crls = {*root_crl_, *InterCrl(CrlBuilder().Updates(At("2026-03-02T00:00:00Z"),
                                                             At("2026-05-01T00:00:00Z")))};
  EXPECT_ERROR(Verify(*leaf_, options), Code::kVerificationFailed,
               "crypto.chain.crl_not_yet_valid");
  // A CRL without nextUpdate never expires, so it is refused.
  options.crls = {*root_crl_,
                  *InterCrl(CrlBuilder().Updates(At("2026-01-01T00:00:00Z"), std::nullopt))};
  EXPECT_ERROR(Verify(*leaf_, options), Code::kVerificationFailed,
               "crypto.chain.crl_no_next_update");
  // A CRL whose signature bytes were altered.
  Bytes der(inter_crl_->Der().begin(), inter_crl_->Der().end());
  der.back() ^= 0x01;
  auto tampered = Crl::FromDer(der);
  ASSERT_TRUE(tampered.has_value()) << tampered.error();
  options.crls = {*root_crl_, *tampered};
  options.crl_policy = CrlPolicy::kRequireForEveryIssuer;
  EXPECT_ERROR(Verify(*leaf_, options), Code::kVerificationFailed,
               "crypto.chain.crl_signature_invalid");
}

TEST_F(CryptoChainPki, UnpinnedRootsFail) {
  // No pins, a pin of something else, or the root missing from the inputs.
  EXPECT_ERROR(VerifyChain(*leaf_, Inputs(), {}, Options()), Code::kVerificationFailed,
               "crypto.chain.untrusted_root");
  std::vector<TrustAnchor> other = {{*ParseFingerprintHex(std::string(64, 'a')), "other"}};
  EXPECT_ERROR(VerifyChain(*leaf_, Inputs(), other, Options()), Code::kVerificationFailed,
               "crypto.chain.untrusted_root");
  std::vector<Certificate> no_root = {*inter_};
  EXPECT_ERROR(VerifyChain(*leaf_, no_root, Pins(), Options()), Code::kVerificationFailed,
               "crypto.chain.untrusted_root");
  // A valid self-signed leaf, with the pinned root present but unrelated.
  auto self_signed = CertificateBuilder()
                         .SubjectCommonName("self")
                         .Validity(At("2025-01-01T00:00:00Z"), At("2030-01-01T00:00:00Z"))
                         .SelfSign(*leaf_key_);
  ASSERT_TRUE(self_signed.has_value());
  EXPECT_ERROR(Verify(*self_signed, Options()), Code::kVerificationFailed,
               "crypto.chain.untrusted_root");
  // An intermediate pinned instead of the root: partial chains are never accepted.
  std::vector<TrustAnchor> inter_pin = {{inter_->Sha256OfDer(), "intermediate"}};
  std::vector<Certificate> only_inter = {*inter_};
  EXPECT_ERROR(VerifyChain(*leaf_, only_inter, inter_pin, Options()), Code::kVerificationFailed,
               "crypto.chain.no_path");
}

TEST_F(CryptoChainPki, StructuralFailures) {
  // A flipped byte in the leaf's signature.
  Bytes der(leaf_->Der().begin(), leaf_->Der().end());
  der.back() ^= 0x01;
  auto tampered = Certificate::FromDer(der);
  ASSERT_TRUE(tampered.has_value());
  EXPECT_ERROR(Verify(*tampered, Options()), Code::kVerificationFailed,
               "crypto.chain.signature_invalid");
  // Too long for max_depth.
  ChainOptions options = Options();
  options.max_depth = 2;
  EXPECT_ERROR(Verify(*leaf_, options), Code::kVerificationFailed, "crypto.chain.too_long");
  options.max_depth = 3;
  EXPECT_OK(Verify(*leaf_, options));
  // Unknown extensions: non-critical ones (like Intel's SGX extension) pass, critical ones fail.
  CertificateBuilder sgx;
  sgx.AddExtension("1.2.840.113741.1.13.1", Hex("3000"), /*critical=*/false);
  EXPECT_OK(Verify(*Leaf(At("2026-01-01T00:00:00Z"), At("2027-01-01T00:00:00Z"), sgx), Options()));
  CertificateBuilder critical;
  critical.AddExtension("1.3.6.1.4.1.99999.7", Hex("0500"), /*critical=*/true);
  EXPECT_ERROR(
      Verify(*Leaf(At("2026-01-01T00:00:00Z"), At("2027-01-01T00:00:00Z"), critical), Options()),
      Code::kVerificationFailed, "crypto.chain.unhandled_critical_extension");
  // An issuer that is not a CA.
  inter_ = *Intermediate(At("2025-01-01T00:00:00Z"), At("2035-01-01T00:00:00Z"), false);
  options = {.as_of = At("2026-03-01T00:00:00Z"), .crl_policy = CrlPolicy::kNone};
  EXPECT_ERROR(Verify(*Leaf(At("2026-01-01T00:00:00Z"), At("2027-01-01T00:00:00Z")), options),
               Code::kVerificationFailed, "crypto.chain.invalid_ca");
}

TEST_F(CryptoChainPki, BadOptions) {
  ChainOptions options = Options();
  options.as_of = {};
  EXPECT_ERROR(Verify(*leaf_, options), Code::kInvalidArgument, "crypto.chain.bad_options");
  options = Options();
  options.max_depth = 0;
  EXPECT_ERROR(Verify(*leaf_, options), Code::kInvalidArgument, "crypto.chain.bad_options");
}

// The chain built here verifies with the real `openssl verify`, and fails with it where ours does.
TEST_F(CryptoChainPki, InteroperatesWithOpensslCli) {
  if (std::system("openssl version > /dev/null 2>&1") != 0) GTEST_SKIP() << "no openssl CLI";
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "lunal_crypto_chain";
  std::filesystem::create_directories(dir);
  auto write = [&](const char* name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  std::string root = write("root.pem", root_->ToPem());
  std::string inter = write("inter.pem", inter_->ToPem());
  std::string leaf = write("leaf.pem", leaf_->ToPem());
  std::string crls = write("crls.pem", root_crl_->ToPem() + inter_crl_->ToPem());
  auto openssl_verify = [&](sys_seconds as_of, const std::string& extra) {
    std::string command = fmt::format(
        "openssl verify -x509_strict -attime {} -CAfile '{}' -untrusted '{}' {} '{}' "
        "> /dev/null 2>&1",
        as_of.time_since_epoch().count(), root, inter, extra, leaf);
    return std::system(command.c_str());
  };
  const sys_seconds as_of = At("2026-03-01T00:00:00Z");
  EXPECT_EQ(openssl_verify(as_of, ""), 0);
  EXPECT_EQ(openssl_verify(as_of, "-crl_check_all -CRLfile '" + crls + "'"), 0);
  EXPECT_OK(Verify(*leaf_, Options()));
  // After the leaf expires both refuse.
  const sys_seconds later = At("2027-06-01T00:00:00Z");
  EXPECT_NE(openssl_verify(later, ""), 0);
  EXPECT_ERROR(Verify(*leaf_, {.as_of = later, .crl_policy = CrlPolicy::kNone}),
               Code::kVerificationFailed, "crypto.chain.cert_expired");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lunal::crypto
