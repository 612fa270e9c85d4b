#include "lunal/crypto/x509.h"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "lunal/crypto/signature.h"
#include "lunal/crypto/x509_builder.h"
#include "test_support.h"

namespace lunal::crypto {
namespace {

using testing::At;
using testing::Evidence;
using testing::Hex;
using testing::ReadBytes;
using testing::ReadText;
using testing::ToHex;

constexpr std::string_view kIntelRootName =
    "C=US,ST=CA,L=Santa Clara,O=Intel Corporation,CN=Intel SGX Root CA";

// The PEM chain at the end of a real TDX v4 quote's certification data (type 5), NUL included.
std::string QuotePckChain() {
  std::string quote =
      ReadText(Evidence("lunal-attestation-rs/crates/attestation/test_data/tdx_quote_4.dat"));
  std::size_t begin = quote.find("-----BEGIN CERTIFICATE-----");
  EXPECT_NE(begin, std::string::npos);
  return begin == std::string::npos ? "" : quote.substr(begin);
}

TEST(X509, EveryAnchorMatchesFingerprintsJson) {
  auto pins = nlohmann::json::parse(ReadText(Evidence("anchors/fingerprints.json")));
  ASSERT_EQ(pins.size(), 13u);
  for (const auto& [name, entry] : pins.items()) {
    SCOPED_TRACE(name);
    // The JSON's names follow the file names except for the TCB signing certificates.
    std::string file = name;
    if (name == "intel_sgx_tcb_signing_2025") file = "intel_sgx_tcb_signing_2025-2032";
    if (name == "intel_sgx_tcb_signing_2018") file = "intel_sgx_tcb_signing_2018-2025";
    auto from_pem = Certificate::FromPem(ReadText(Evidence("anchors/" + file + ".pem")));
    ASSERT_TRUE(from_pem.has_value()) << from_pem.error();
    auto from_der = Certificate::FromDer(ReadBytes(Evidence("anchors/" + file + ".der")));
    ASSERT_TRUE(from_der.has_value()) << from_der.error();
    EXPECT_TRUE(*from_pem == *from_der);
    EXPECT_EQ(ToHex(from_pem->Sha256OfDer()), entry[0].get<std::string>());
    // Everything but the TCB signing certificates (end entities) is a CA.
    EXPECT_EQ(from_pem->IsCa(), name.find("tcb_signing") == std::string::npos);
    EXPECT_LT(from_pem->NotBefore(), from_pem->NotAfter());
  }
}

TEST(X509, IntelRootFields) {
  auto root = Certificate::FromPem(ReadText(Evidence("anchors/intel_sgx_root_ca.pem")));
  ASSERT_TRUE(root.has_value()) << root.error();
  EXPECT_EQ(ToHex(root->Sha256OfDer()),
            "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3");
  EXPECT_EQ(root->SubjectName(), kIntelRootName);
  EXPECT_EQ(root->IssuerName(), kIntelRootName);
  EXPECT_EQ(root->SubjectCommonName(), "Intel SGX Root CA");
  EXPECT_EQ(root->SerialHex(), "22650cd65a9d3489f383b49552bf501b392706ac");
  EXPECT_EQ(root->NotBefore(), At("2018-05-21T10:45:10Z"));
  EXPECT_EQ(root->NotAfter(), At("2049-12-31T23:59:59Z"));
  EXPECT_TRUE(root->IsCa());
  EXPECT_TRUE(root->IsSelfSigned());
  EXPECT_EQ(root->SignatureAlgorithm(), "ecdsa-with-SHA256");
  EXPECT_EQ(root->PublicKey()->Type(), KeyType::kEcP256);
  // basicConstraints: critical, SEQUENCE { cA TRUE, pathLenConstraint 1 }.
  EXPECT_EQ(ToHex(*root->Extension("2.5.29.19")), "30060101ff020101");
  EXPECT_EQ(root->IsExtensionCritical("2.5.29.19"), true);
  EXPECT_EQ(root->IsExtensionCritical("2.5.29.31"), false);
  EXPECT_FALSE(root->Extension("2.5.29.17").has_value());
  EXPECT_FALSE(root->Extension("basicConstraints").has_value());  // names are not OIDs
  EXPECT_FALSE(root->Extension("").has_value());
  std::vector<std::string> oids = root->ExtensionOids();
  EXPECT_EQ(oids, (std::vector<std::string>{"2.5.29.35", "2.5.29.31", "2.5.29.14", "2.5.29.15",
                                            "2.5.29.19"}));
  // The self-signature verifies over TbsDer() with the raw ECDSA API.
  EXPECT_OK(VerifyEcdsaDer(*root->PublicKey(), DigestAlgorithm::kSha256, root->TbsDer(),
                           root->SignatureValue()));
  EXPECT_OK(root->VerifySignedBy(*root));
}

TEST(X509, AmdArkIsRsaPss) {
  auto ark = Certificate::FromPem(ReadText(Evidence("anchors/amd_genoa_ark.pem")));
  ASSERT_TRUE(ark.has_value());
  EXPECT_EQ(ark->SignatureAlgorithm(), "RSASSA-PSS");
  EXPECT_EQ(ark->SubjectCommonName(), "ARK-Genoa");
  EXPECT_TRUE(ark->IsSelfSigned());
  auto ask = Certificate::FromPem(ReadText(Evidence("anchors/amd_genoa_ask.pem")));
  ASSERT_TRUE(ask.has_value());
  EXPECT_FALSE(ask->IsSelfSigned());
  EXPECT_OK(ask->VerifySignedBy(*ark));
  auto milan_ark = Certificate::FromPem(ReadText(Evidence("anchors/amd_milan_ark.pem")));
  EXPECT_ERROR(ask->VerifySignedBy(*milan_ark), Code::kVerificationFailed,
               "crypto.x509.issuer_mismatch");
}

TEST(X509, IssuerSignatures) {
  auto root = Certificate::FromPem(ReadText(Evidence("anchors/intel_sgx_root_ca.pem")));
  auto platform = Certificate::FromPem(ReadText(Evidence("anchors/intel_sgx_pck_platform_ca.pem")));
  auto tcb_old =
      Certificate::FromPem(ReadText(Evidence("anchors/intel_sgx_tcb_signing_2018-2025.pem")));
  auto tcb_new =
      Certificate::FromPem(ReadText(Evidence("anchors/intel_sgx_tcb_signing_2025-2032.pem")));
  ASSERT_TRUE(root && platform && tcb_old && tcb_new);
  EXPECT_OK(platform->VerifySignedBy(*root));
  EXPECT_OK(tcb_old->VerifySignedBy(*root));
  EXPECT_OK(tcb_new->VerifySignedBy(*root));
  // Same key, same serial, different validity: different certificates.
  EXPECT_TRUE(*tcb_old->PublicKey() == *tcb_new->PublicKey());
  EXPECT_EQ(tcb_old->SerialHex(), tcb_new->SerialHex());
  EXPECT_FALSE(*tcb_old == *tcb_new);
  EXPECT_ERROR(root->VerifySignedBy(*platform), Code::kVerificationFailed,
               "crypto.x509.issuer_mismatch");
  // A same-named root with another key: the name matches, the signature does not.
  auto fake_key = PrivateKey::Generate(KeyType::kEcP256);
  auto fake_root = testing::SameNamedIntelRoot(*fake_key);
  ASSERT_TRUE(fake_root.has_value()) << fake_root.error();
  EXPECT_EQ(fake_root->SubjectName(), kIntelRootName);
  EXPECT_ERROR(platform->VerifySignedBy(*fake_root), Code::kVerificationFailed,
               "crypto.x509.signature_invalid");
}

TEST(X509, QuotePemChainWithTrailingNul) {
  std::string pem = QuotePckChain();
  ASSERT_EQ(pem.back(), '\0');
  auto chain = ParsePemChain(pem);
  ASSERT_TRUE(chain.has_value()) << chain.error();
  ASSERT_EQ(chain->size(), 3u);
  EXPECT_EQ((*chain)[0].SubjectCommonName(), "Intel SGX PCK Certificate");
  EXPECT_EQ((*chain)[1].SubjectCommonName(), "Intel SGX PCK Platform CA");
  EXPECT_EQ(ToHex((*chain)[2].Sha256OfDer()),
            "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3");
  const Certificate& pck = (*chain)[0];
  EXPECT_FALSE(pck.IsCa());
  EXPECT_EQ(pck.SerialHex(), "99c1712024a45e82ef4f19be96bf52ea98e95b19");
  // Intel's SGX extension (SGX PCK Certificate and CRL Profile §1.3.5) is present, non-critical,
  // and a SEQUENCE.
  auto sgx = pck.Extension("1.2.840.113741.1.13.1");
  ASSERT_TRUE(sgx.has_value());
  EXPECT_EQ((*sgx)[0], 0x30);
  EXPECT_EQ(pck.IsExtensionCritical("1.2.840.113741.1.13.1"), false);
  EXPECT_OK(pck.VerifySignedBy((*chain)[1]));
  // Several NULs and CRLF whitespace are tolerated too.
  std::string crlf = "\r\n  " + pem.substr(0, pem.size() - 1) + "\r\n" + std::string(3, '\0');
  EXPECT_EQ(ParsePemChain(crlf)->size(), 3u);
}

TEST(X509, PemChainRejectsGarbage) {
  std::string root = ReadText(Evidence("anchors/intel_sgx_root_ca.pem"));
  std::string platform = ReadText(Evidence("anchors/intel_sgx_pck_platform_ca.pem"));
  EXPECT_EQ(ParsePemChain(platform + root)->size(), 2u);
  EXPECT_ERROR(ParsePemChain(platform + "junk\n" + root), Code::kMalformed,
               "crypto.x509.pem_garbage");
  EXPECT_ERROR(ParsePemChain("junk" + root), Code::kMalformed, "crypto.x509.pem_garbage");
  EXPECT_ERROR(ParsePemChain(root + "x"), Code::kMalformed, "crypto.x509.pem_garbage");
  EXPECT_ERROR(ParsePemChain(root + std::string(1, '\0') + root), Code::kMalformed,
               "crypto.x509.pem_garbage");
  EXPECT_ERROR(ParsePemChain(""), Code::kMalformed, "crypto.x509.no_certificate");
  EXPECT_ERROR(ParsePemChain(std::string(2, '\0')), Code::kMalformed, "crypto.x509.no_certificate");
  EXPECT_ERROR(ParsePemChain(root.substr(0, root.size() - 30)), Code::kMalformed,
               "crypto.x509.parse_failed");
  // A body that is not base64 of a certificate.
  std::string bad_body = root;
  bad_body[100] = '*';
  EXPECT_ERROR(ParsePemChain(bad_body), Code::kMalformed, "crypto.x509.parse_failed");
  EXPECT_ERROR(Certificate::FromPem(platform + root), Code::kMalformed,
               "crypto.x509.expected_one_certificate");
  EXPECT_TRUE(Certificate::FromPem(root).has_value());
}

TEST(X509, DerParsingIsStrict) {
  Bytes der = ReadBytes(Evidence("anchors/intel_sgx_root_ca.der"));
  ASSERT_TRUE(Certificate::FromDer(der).has_value());
  // Every truncation fails.
  for (std::size_t length = 0; length < der.size(); ++length) {
    SCOPED_TRACE(length);
    EXPECT_ERROR(Certificate::FromDer(ByteSpan(der).first(length)), Code::kMalformed,
                 "crypto.x509.parse_failed");
  }
  Bytes trailing = der;
  trailing.push_back(0);
  EXPECT_ERROR(Certificate::FromDer(trailing), Code::kMalformed, "crypto.x509.trailing_data");
  EXPECT_ERROR(Certificate::FromDer(ToBytes("garbage")), Code::kMalformed,
               "crypto.x509.parse_failed");
  // A PEM is not DER.
  EXPECT_ERROR(Certificate::FromDer(ReadBytes(Evidence("anchors/intel_sgx_root_ca.pem"))),
               Code::kMalformed, "crypto.x509.parse_failed");
}

TEST(X509, BuilderProducesWhatWasAsked) {
  auto ca_key = PrivateKey::Generate(KeyType::kEcP384);
  auto leaf_key = PrivateKey::Generate(KeyType::kEd25519);
  ASSERT_TRUE(ca_key && leaf_key);
  CertificateBuilder ca_builder;
  ca_builder.SubjectCommonName("Lunal Simulation Root CA")
      .SubjectOrganization("Lunal")
      .Serial(Hex("01"))
      .Validity(At("2025-01-01T00:00:00Z"), At("2055-01-01T00:00:00Z"))
      .Ca(true, 2)
      .Digest(DigestAlgorithm::kSha384);
  auto ca = ca_builder.SelfSign(*ca_key);
  ASSERT_TRUE(ca.has_value()) << ca.error();
  EXPECT_EQ(ca->SubjectName(), "O=Lunal,CN=Lunal Simulation Root CA");
  EXPECT_EQ(ca->SerialHex(), "1");
  EXPECT_EQ(ca->NotAfter(), At("2055-01-01T00:00:00Z"));  // GeneralizedTime after 2049
  EXPECT_TRUE(ca->IsCa());
  EXPECT_TRUE(ca->IsSelfSigned());
  EXPECT_EQ(ca->SignatureAlgorithm(), "ecdsa-with-SHA384");
  EXPECT_EQ(ToHex(*ca->Extension("2.5.29.19")), "30060101ff020102");

  CertificateBuilder leaf_builder;
  leaf_builder.SubjectCommonName("instance-7")
      .Validity(At("2026-01-01T00:00:00Z"), At("2026-01-02T00:00:00Z"))
      .SubjectKey(*leaf_key->PublicKey())
      .ExtendedKeyUsage({"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"})
      .AddSanUri("spiffe://lunal/instance/7")
      .AddSanDns("instance-7.lunal.internal")
      .AddExtension("1.3.6.1.4.1.99999.1", Hex("0403aabbcc"), /*critical=*/false);
  auto leaf = leaf_builder.SignWith(*ca, *ca_key);
  ASSERT_TRUE(leaf.has_value()) << leaf.error();
  EXPECT_FALSE(leaf->IsCa());
  EXPECT_FALSE(leaf->IsSelfSigned());
  EXPECT_EQ(leaf->IssuerName(), ca->SubjectName());
  EXPECT_EQ(leaf->SerialHex().size(), 32u);  // 16 random bytes, first one 0x40..0x7f
  EXPECT_TRUE(*leaf->PublicKey() == *leaf_key->PublicKey());
  EXPECT_EQ(ToHex(*leaf->Extension("1.3.6.1.4.1.99999.1")), "0403aabbcc");
  EXPECT_EQ(leaf->IsExtensionCritical("1.3.6.1.4.1.99999.1"), false);
  auto san = leaf->Extension("2.5.29.17");
  ASSERT_TRUE(san.has_value());
  std::string san_text = ToString(*san);
  EXPECT_NE(san_text.find("spiffe://lunal/instance/7"), std::string::npos);
  EXPECT_NE(san_text.find("instance-7.lunal.internal"), std::string::npos);
  EXPECT_TRUE(leaf->Extension("2.5.29.37").has_value());  // extendedKeyUsage
  EXPECT_TRUE(leaf->Extension("2.5.29.35").has_value());  // authorityKeyIdentifier
  EXPECT_OK(leaf->VerifySignedBy(*ca));

  // An Ed25519-signed certificate (RFC 8410).
  auto ed_ca = CertificateBuilder(ca_builder).SelfSign(*leaf_key);
  ASSERT_TRUE(ed_ca.has_value()) << ed_ca.error();
  EXPECT_EQ(ed_ca->SignatureAlgorithm(), "ED25519");
  EXPECT_TRUE(ed_ca->IsSelfSigned());
}

TEST(X509, BuilderRefusesBadInput) {
  auto key = PrivateKey::Generate(KeyType::kEcP256);
  auto other = PrivateKey::Generate(KeyType::kEcP256);
  auto x = PrivateKey::Generate(KeyType::kX25519);
  CertificateBuilder builder;
  builder.SubjectCommonName("x");
  EXPECT_ERROR(builder.SelfSign(*key), Code::kInvalidArgument, "crypto.builder.invalid");
  builder.Validity(At("2026-01-01T00:00:00Z"), At("2027-01-01T00:00:00Z"));
  auto ca = builder.Ca(true).SelfSign(*key);
  ASSERT_TRUE(ca.has_value());
  EXPECT_ERROR(CertificateBuilder()
                   .Validity(At("2026-01-01T00:00:00Z"), At("2027-01-01T00:00:00Z"))
                   .SelfSign(*key),
               Code::kInvalidArgument, "crypto.builder.invalid");  // empty subject
  EXPECT_ERROR(builder.SelfSign(*x), Code::kInvalidArgument, "crypto.key.wrong_type");
  EXPECT_ERROR(builder.SignWith(*ca, *other), Code::kInvalidArgument, "crypto.builder.invalid");
  EXPECT_ERROR(builder.SignWith(*ca, *key), Code::kInvalidArgument, "crypto.builder.invalid");
  EXPECT_ERROR(CertificateBuilder(builder).AddExtension("not.an.oid", {}, false).SelfSign(*key),
               Code::kInvalidArgument, "crypto.builder.invalid");
  EXPECT_ERROR(CertificateBuilder(builder).AddSubjectAttribute("NOPE", "v").SelfSign(*key),
               Code::kInvalidArgument, "crypto.builder.invalid");
}

// Failures drain OpenSSL's thread-local error queue, so stale errors never leak into the next call.
TEST(X509, FailuresLeaveNoOpenSslErrors) {
  ERR_clear_error();
  EXPECT_FALSE(Certificate::FromDer(ToBytes("garbage")).has_value());
  EXPECT_FALSE(
      ParsePemChain("-----BEGIN CERTIFICATE-----\n*\n-----END CERTIFICATE-----").has_value());
  EXPECT_FALSE(Crl::FromDer(ToBytes("garbage")).has_value());
  EXPECT_FALSE(Crl::FromPem("nope").has_value());
  EXPECT_FALSE(PublicKey::FromSpkiDer(ToBytes("garbage")).has_value());
  EXPECT_FALSE(PublicKey::FromEcPoint(Curve::kP256, Bytes(64, 1)).has_value());
  EXPECT_FALSE(PrivateKey::FromPem("nope").has_value());
  auto key = PrivateKey::Generate(KeyType::kEcP256);
  EXPECT_FALSE(VerifyEcdsaRaw(*key->PublicKey(), DigestAlgorithm::kSha256, {}, Bytes(64, 1)).ok());
  EXPECT_FALSE(VerifyEcdsaDer(*key->PublicKey(), DigestAlgorithm::kSha256, {}, Bytes(8, 1)).ok());
  auto root = Certificate::FromPem(ReadText(Evidence("anchors/intel_sgx_root_ca.pem")));
  auto platform = Certificate::FromPem(ReadText(Evidence("anchors/intel_sgx_pck_platform_ca.pem")));
  EXPECT_FALSE(root->VerifySignedBy(*platform).ok());
  EXPECT_FALSE(root->Extension("1.2.3.4").has_value());
  EXPECT_EQ(ERR_peek_error(), 0u);
}

}  // namespace
}  // namespace lunal::crypto
