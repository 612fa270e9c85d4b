#include <gtest/gtest.h>

#include <filesystem>

#include "lunal/crypto/x509.h"
#include "lunal/crypto/x509_builder.h"
#include "test_support.h"

namespace lunal::crypto {
namespace {

using testing::At;
using testing::Evidence;
using testing::ReadBytes;
using testing::ReadText;

constexpr std::string_view kCollateral =
    "lunal-attestation-rs/crates/attestation/test_data/collateral/";

Certificate Anchor(std::string_view name) {
  auto cert = Certificate::FromPem(ReadText(Evidence("anchors/" + std::string(name) + ".pem")));
  EXPECT_TRUE(cert.has_value()) << name;
  return *cert;
}

TEST(CryptoCrl, IntelRootCaCrl) {
  auto crl = Crl::FromDer(ReadBytes(Evidence(std::string(kCollateral) + "root_ca_crl.der")));
  ASSERT_TRUE(crl.has_value()) << crl.error();
  EXPECT_EQ(crl->IssuerName(), "C=US,ST=CA,L=Santa Clara,O=Intel Corporation,CN=Intel SGX Root CA");
  EXPECT_EQ(crl->ThisUpdate(), At("2026-02-26T13:04:00Z"));
  EXPECT_EQ(crl->NextUpdate(), At("2027-02-26T13:04:00Z"));
  EXPECT_TRUE(crl->RevokedSerials().empty());
  EXPECT_OK(crl->VerifySignature(Anchor("intel_sgx_root_ca")));
  EXPECT_ERROR(crl->VerifySignature(Anchor("intel_sgx_pck_platform_ca")), Code::kVerificationFailed,
               "crypto.crl.issuer_mismatch");
  EXPECT_FALSE(crl->IsRevoked(Anchor("intel_sgx_pck_platform_ca")));
}

TEST(CryptoCrl, IntelPckCrl) {
  auto crl = Crl::FromDer(ReadBytes(Evidence(std::string(kCollateral) + "pck_crl_platform.der")));
  ASSERT_TRUE(crl.has_value()) << crl.error();
  EXPECT_EQ(crl->ThisUpdate(), At("2026-03-16T22:34:05Z"));
  EXPECT_EQ(crl->NextUpdate(), At("2026-04-15T22:34:05Z"));
  EXPECT_EQ(crl->CrlNumberHex(), "1");
  EXPECT_EQ(crl->RevokedSerials().size(), 57u);
  EXPECT_TRUE(std::is_sorted(crl->RevokedSerials().begin(), crl->RevokedSerials().end()));
  // Serials compare by value, whatever the case, separators or leading zeros.
  EXPECT_TRUE(crl->IsRevoked("6fc34e5023e728923435d61aa4b83c618166ad35"));
  EXPECT_TRUE(crl->IsRevoked("6FC34E5023E728923435D61AA4B83C618166AD35"));
  EXPECT_TRUE(crl->IsRevoked("006fc34e5023e728923435d61aa4b83c618166ad35"));
  EXPECT_TRUE(crl->IsRevoked("6f:c3:4e:50:23:e7:28:92:34:35:d6:1a:a4:b8:3c:61:81:66:ad:35"));
  EXPECT_FALSE(crl->IsRevoked("6fc34e5023e728923435d61aa4b83c618166ad36"));
  EXPECT_FALSE(crl->IsRevoked("not hex"));
  EXPECT_FALSE(crl->IsRevoked(""));
  EXPECT_OK(crl->VerifySignature(Anchor("intel_sgx_pck_platform_ca")));
  EXPECT_ERROR(crl->VerifySignature(Anchor("intel_sgx_root_ca")), Code::kVerificationFailed,
               "crypto.crl.issuer_mismatch");
}

// Every Intel CRL in the collateral pool parses; those under the production root verify, and the
// ones signed by Intel's test PKI (same issuer name, other key) do not.
TEST(CryptoCrl, CollateralPoolSignatures) {
  Certificate root = Anchor("intel_sgx_root_ca");
  Certificate platform = Anchor("intel_sgx_pck_platform_ca");
  int production = 0;
  int test_pki = 0;
  for (const auto& entry : std::filesystem::directory_iterator(Evidence("collateral/intel"))) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with("crl__")) continue;
    SCOPED_TRACE(name);
    auto crl = Crl::FromDerOrPem(ReadBytes(entry.path()));
    ASSERT_TRUE(crl.has_value()) << crl.error();
    ASSERT_TRUE(crl->NextUpdate().has_value());
    EXPECT_LT(crl->ThisUpdate(), *crl->NextUpdate());
    const bool from_test_pki =
        name.find("intel-qvl") != std::string::npos || name.find("teekit") != std::string::npos;
    if (crl->IssuerName().ends_with("CN=Intel SGX Root CA")) {
      Status status = crl->VerifySignature(root);
      if (from_test_pki) {
        EXPECT_EQ(status.reason(), "crypto.crl.signature_invalid") << status;
        ++test_pki;
      } else {
        EXPECT_TRUE(status.ok()) << status;
        ++production;
      }
    } else if (crl->IssuerName().ends_with("CN=Intel SGX PCK Platform CA")) {
      EXPECT_OK(crl->VerifySignature(platform));
      ++production;
    }
  }
  EXPECT_EQ(production, 10);
  EXPECT_EQ(test_pki, 2);
}

TEST(CryptoCrl, BuilderPemAndStrictParsing) {
  auto key = PrivateKey::Generate(KeyType::kEcP256);
  auto ca = CertificateBuilder()
                .SubjectCommonName("Test CA")
                .Validity(At("2026-01-01T00:00:00Z"), At("2030-01-01T00:00:00Z"))
                .Ca(true)
                .SelfSign(*key);
  ASSERT_TRUE(ca.has_value()) << ca.error();
  auto crl = CrlBuilder()
                 .Updates(At("2026-02-01T00:00:00Z"), At("2026-03-01T00:00:00Z"))
                 .Revoke("0A0b", At("2026-01-15T00:00:00Z"))
                 .Revoke("ff", At("2026-01-16T00:00:00Z"))
                 .CrlNumber(7)
                 .Sign(*ca, *key);
  ASSERT_TRUE(crl.has_value()) << crl.error();
  EXPECT_EQ(crl->RevokedSerials(), (std::vector<std::string>{"a0b", "ff"}));
  EXPECT_EQ(crl->CrlNumberHex(), "7");
  EXPECT_EQ(crl->ThisUpdate(), At("2026-02-01T00:00:00Z"));
  EXPECT_OK(crl->VerifySignature(*ca));
  auto other_key = PrivateKey::Generate(KeyType::kEcP256);
  EXPECT_ERROR(CrlBuilder().Updates(At("2026-02-01T00:00:00Z"), std::nullopt).Sign(*ca, *other_key),
               Code::kInvalidArgument, "crypto.builder.invalid");
  auto no_next = CrlBuilder().Updates(At("2026-02-01T00:00:00Z"), std::nullopt).Sign(*ca, *key);
  ASSERT_TRUE(no_next.has_value());
  EXPECT_FALSE(no_next->NextUpdate().has_value());

  std::string pem = crl->ToPem();
  EXPECT_TRUE(pem.starts_with("-----BEGIN X509 CRL-----\n")) << pem;
  auto from_pem = Crl::FromPem(pem);
  ASSERT_TRUE(from_pem.has_value()) << from_pem.error();
  EXPECT_EQ(from_pem->Sha256OfDer(), crl->Sha256OfDer());
  auto detected = Crl::FromDerOrPem(AsBytes("\n" + pem + std::string(1, '\0')));
  ASSERT_TRUE(detected.has_value()) << detected.error();
  EXPECT_EQ(detected->Sha256OfDer(), crl->Sha256OfDer());
  EXPECT_ERROR(Crl::FromPem(pem + "junk"), Code::kMalformed, "crypto.crl.trailing_data");

  Bytes der(crl->Der().begin(), crl->Der().end());
  der.push_back(0);
  EXPECT_ERROR(Crl::FromDer(der), Code::kMalformed, "crypto.crl.trailing_data");
  der.pop_back();
  der.pop_back();
  EXPECT_ERROR(Crl::FromDer(der), Code::kMalformed, "crypto.crl.parse_failed");
  EXPECT_ERROR(Crl::FromDerOrPem(ToBytes("garbage")), Code::kMalformed, "crypto.crl.parse_failed");
  EXPECT_ERROR(Crl::FromPem("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"),
               Code::kMalformed, "crypto.crl.parse_failed");
  // A certificate is not a CRL.
  EXPECT_ERROR(Crl::FromDer(ca->Der()), Code::kMalformed, "crypto.crl.parse_failed");
}

}  // namespace
}  // namespace lunal::crypto
