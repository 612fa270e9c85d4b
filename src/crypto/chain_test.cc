#include "lunal/crypto/chain.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "lunal/crypto/x509_builder.h"
#include "test_support.h"

namespace lunal::crypto {
namespace {

using testing::At;
using testing::Evidence;
using testing::ReadBytes;
using testing::ReadText;
using testing::ToHex;
using CrlPolicy = ChainOptions::CrlPolicy;

constexpr std::string_view kCollateral =
    "lunal-attestation-rs/crates/attestation/test_data/collateral/";
constexpr std::string_view kIntelRootPin =
    "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3";

Certificate Anchor(std::string_view name) {
  auto cert = Certificate::FromPem(ReadText(Evidence("anchors/" + std::string(name) + ".pem")));
  EXPECT_TRUE(cert.has_value()) << name;
  return *cert;
}

Crl CollateralCrl(std::string_view file) {
  auto crl = Crl::FromDer(ReadBytes(Evidence(std::string(file))));
  EXPECT_TRUE(crl.has_value()) << file;
  return *crl;
}

TrustAnchor Pin(const Certificate& cert, std::string label) {
  return {cert.Sha256OfDer(), std::move(label)};
}

std::vector<TrustAnchor> IntelPins() {
  return {{*ParseFingerprintHex(kIntelRootPin), "Intel SGX Root CA"}};
}

std::vector<Certificate> QuotePckChain() {
  std::string quote =
      ReadText(Evidence("lunal-attestation-rs/crates/attestation/test_data/tdx_quote_4.dat"));
  auto chain = ParsePemChain(quote.substr(quote.find("-----BEGIN CERTIFICATE-----")));
  EXPECT_TRUE(chain.has_value() && chain->size() == 3);
  return chain.has_value() ? *chain : std::vector<Certificate>{};
}

// ---- Real Intel data ----

TEST(CryptoChain, IntelPlatformCaToPinnedRootWithRootCrl) {
  Certificate platform = Anchor("intel_sgx_pck_platform_ca");
  std::vector<Certificate> inputs = {Anchor("intel_sgx_root_ca")};
  ChainOptions options{.as_of = At("2026-03-01T00:00:00Z"),
                       .crls = {CollateralCrl(std::string(kCollateral) + "root_ca_crl.der")},
                       .crl_policy = CrlPolicy::kRequireForEveryIssuer};
  auto chain = VerifyChain(platform, inputs, IntelPins(), options);
  ASSERT_TRUE(chain.has_value()) << chain.error();
  ASSERT_EQ(chain->path.size(), 2u);
  EXPECT_EQ(ToHex(chain->anchor_sha256), kIntelRootPin);
  EXPECT_EQ(chain->Describe(), "Intel SGX Root CA (pinned) → Intel SGX PCK Platform CA");

  // The 2023 root CRL had expired by then; it was current in mid-2023.
  options.crls = {
      CollateralCrl("collateral/intel/crl__go-tdx-guest__testing__testdata__rootcrl.der")};
  EXPECT_ERROR(VerifyChain(platform, inputs, IntelPins(), options), Code::kVerificationFailed,
               "crypto.chain.crl_expired");
  options.as_of = At("2023-06-01T00:00:00Z");
  EXPECT_OK(VerifyChain(platform, inputs, IntelPins(), options));
  // A "root CA CRL" from Intel's test PKI has the right issuer name but another authority key
  // identifier and signature: it is not the root's CRL, so the root's CRL is missing.
  options.as_of = At("2026-03-01T00:00:00Z");
  options.crls = {CollateralCrl(
      "collateral/intel/crl__intel-qvl__Src__AttestationApp__sampleData__tdx__rootCaCrl.der")};
  EXPECT_ERROR(VerifyChain(platform, inputs, IntelPins(), options), Code::kVerificationFailed,
               "crypto.chain.crl_missing");
  // Past the Platform CA's notAfter (2033-05-21).
  options.crl_policy = CrlPolicy::kNone;
  options.as_of = At("2034-01-01T00:00:00Z");
  auto expired = VerifyChain(platform, inputs, IntelPins(), options);
  EXPECT_ERROR(expired, Code::kVerificationFailed, "crypto.chain.cert_expired");
  EXPECT_NE(expired.error().message().find("Intel SGX PCK Platform CA"), std::string::npos);
  EXPECT_NE(expired.error().message().find("2034-01-01T00:00:00Z"), std::string::npos);
}

TEST(CryptoChain, IntelPckLeafFromQuoteWithBothCrls) {
  std::vector<Certificate> chain = QuotePckChain();
  ASSERT_EQ(chain.size(), 3u);
  const Certificate& leaf = chain[0];
  std::span<const Certificate> rest(chain.begin() + 1, chain.end());
  Crl pck_crl = CollateralCrl(std::string(kCollateral) + "pck_crl_platform.der");
  Crl root_crl = CollateralCrl(std::string(kCollateral) + "root_ca_crl.der");
  ChainOptions options{.as_of = At("2026-03-31T22:25:04Z"), .crls = {pck_crl, root_crl}};
  auto verified = VerifyChain(leaf, rest, IntelPins(), options);
  ASSERT_TRUE(verified.has_value()) << verified.error();
  EXPECT_EQ(verified->Describe(),
            "Intel SGX Root CA (pinned) → Intel SGX PCK Platform CA → Intel SGX PCK Certificate");
  EXPECT_FALSE(pck_crl.IsRevoked(leaf));

  // Without the PCK CRL, the default policy refuses; the named weaker policies accept.
  options.crls = {root_crl};
  EXPECT_ERROR(VerifyChain(leaf, rest, IntelPins(), options), Code::kVerificationFailed,
               "crypto.chain.crl_missing");
  options.crl_policy = CrlPolicy::kUseIfPresent;
  EXPECT_OK(VerifyChain(leaf, rest, IntelPins(), options));
  options.crls = {};
  options.crl_policy = CrlPolicy::kNone;
  EXPECT_OK(VerifyChain(leaf, rest, IntelPins(), options));
  // After the PCK CRL's nextUpdate (2026-04-15) it no longer counts, even if only "used if
  // present".
  options = {.as_of = At("2026-04-20T00:00:00Z"),
             .crls = {pck_crl, root_crl},
             .crl_policy = CrlPolicy::kUseIfPresent};
  EXPECT_ERROR(VerifyChain(leaf, rest, IntelPins(), options), Code::kVerificationFailed,
               "crypto.chain.crl_expired");
  // Before the CRL was issued.
  options.as_of = At("2026-03-10T00:00:00Z");
  EXPECT_ERROR(VerifyChain(leaf, rest, IntelPins(), options), Code::kVerificationFailed,
               "crypto.chain.crl_not_yet_valid");
  // Before the PCK certificate's notBefore (2023-02-07).
  options = {.as_of = At("2023-01-01T00:00:00Z"), .crl_policy = CrlPolicy::kNone};
  EXPECT_ERROR(VerifyChain(leaf, rest, IntelPins(), options), Code::kVerificationFailed,
               "crypto.chain.cert_not_yet_valid");
}

TEST(CryptoChain, IntelTcbSigning2018ExpiredIn2026) {
  std::vector<Certificate> inputs = {Anchor("intel_sgx_root_ca")};
  ChainOptions options{.as_of = At("2026-03-01T00:00:00Z"), .crl_policy = CrlPolicy::kNone};
  EXPECT_ERROR(VerifyChain(Anchor("intel_sgx_tcb_signing_2018-2025"), inputs, IntelPins(), options),
               Code::kVerificationFailed, "crypto.chain.cert_expired");
  EXPECT_OK(VerifyChain(Anchor("intel_sgx_tcb_signing_2025-2032"), inputs, IntelPins(), options));
}

// A root with Intel's exact names but another key is not Intel's root.
TEST(CryptoChain, SameNamesDifferentRootKeyFails) {
  auto fake_key = PrivateKey::Generate(KeyType::kEcP256);
  auto fake_root = testing::SameNamedIntelRoot(*fake_key);
  ASSERT_TRUE(fake_root.has_value()) << fake_root.error();
  Certificate real_root = Anchor("intel_sgx_root_ca");
  ASSERT_EQ(fake_root->SubjectName(), real_root.SubjectName());
  ChainOptions options{.as_of = At("2026-03-01T00:00:00Z"), .crl_policy = CrlPolicy::kNone};

  // A platform CA issued by the fake root, offered with the fake root: nothing pinned.
  auto fake_platform = CertificateBuilder()
                           .SubjectCommonName("Intel SGX PCK Platform CA")
                           .SubjectOrganization("Intel Corporation")
                           .Validity(At("2018-05-21T10:50:10Z"), At("2033-05-21T10:50:10Z"))
                           .Ca(true, 0)
                           .SubjectKey(*PrivateKey::Generate(KeyType::kEcP256)->PublicKey())
                           .SignWith(*fake_root, *fake_key);
  ASSERT_TRUE(fake_platform.has_value()) << fake_platform.error();
  std::vector<Certificate> fake_only = {*fake_root};
  EXPECT_ERROR(VerifyChain(*fake_platform, fake_only, IntelPins(), options),
               Code::kVerificationFailed, "crypto.chain.untrusted_root");
  // Adding the real root does not help: the path ends at the unpinned fake.
  std::vector<Certificate> both = {*fake_root, real_root};
  EXPECT_ERROR(VerifyChain(*fake_platform, both, IntelPins(), options), Code::kVerificationFailed,
               "crypto.chain.untrusted_root");
  // The real platform CA with only the fake root: not pinned either.
  Certificate real_platform = Anchor("intel_sgx_pck_platform_ca");
  EXPECT_ERROR(VerifyChain(real_platform, fake_only, IntelPins(), options),
               Code::kVerificationFailed, "crypto.chain.untrusted_root");
  // Even if someone pinned the fake, the real platform CA does not chain to it.
  std::vector<TrustAnchor> wrong_pins = {Pin(*fake_root, "wrongly pinned")};
  EXPECT_ERROR(VerifyChain(real_platform, fake_only, wrong_pins, options),
               Code::kVerificationFailed, "crypto.chain.no_path");
  // And the real chain still verifies with the fake root lying around.
  EXPECT_OK(VerifyChain(real_platform, both, IntelPins(), options));
}

TEST(CryptoChain, AmdVcekNeedsNonStrictMode) {
  auto vcek =
      Certificate::FromDer(ReadBytes(Evidence("virtee-sev/tests/certs_data/vcek_milan.der")));
  ASSERT_TRUE(vcek.has_value()) << vcek.error();
  Certificate ark = Anchor("amd_milan_ark");
  std::vector<Certificate> inputs = {Anchor("amd_milan_ask"), ark};
  std::vector<TrustAnchor> pins = {Pin(ark, "AMD ARK-Milan")};
  ChainOptions options{.as_of = At("2026-03-01T00:00:00Z"), .crl_policy = CrlPolicy::kNone};
  // AMD's VCEK has no authorityKeyIdentifier, which RFC 5280 strict mode requires.
  auto strict = VerifyChain(*vcek, inputs, pins, options);
  EXPECT_ERROR(strict, Code::kVerificationFailed, "crypto.chain.invalid");
  EXPECT_NE(strict.error().message().find("Authority Key Identifier"), std::string::npos);
  options.x509_strict = false;
  auto verified = VerifyChain(*vcek, inputs, pins, options);
  ASSERT_TRUE(verified.has_value()) << verified.error();
  EXPECT_EQ(verified->Describe(), "AMD ARK-Milan (pinned) → SEV-Milan → SEV-VCEK");
  // With only Genoa's ARK pinned and given, the Milan path has nowhere to go.
  std::vector<Certificate> genoa = {Anchor("amd_milan_ask"), Anchor("amd_genoa_ark")};
  std::vector<TrustAnchor> genoa_pin = {Pin(genoa[1], "AMD ARK-Genoa")};
  EXPECT_ERROR(VerifyChain(*vcek, genoa, genoa_pin, options), Code::kVerificationFailed,
               "crypto.chain.no_path");
  // With Milan's ARK given but only Genoa's pinned, the path ends at an unpinned root.
  std::vector<Certificate> milan_unpinned = {Anchor("amd_milan_ask"), ark, genoa[1]};
  EXPECT_ERROR(VerifyChain(*vcek, milan_unpinned, genoa_pin, options), Code::kVerificationFailed,
               "crypto.chain.untrusted_root");
}

TEST(CryptoChain, ParseFingerprintHex) {
  auto plain = ParseFingerprintHex(kIntelRootPin);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(ToHex(*plain), kIntelRootPin);
  EXPECT_EQ(*ParseFingerprintHex(
                "SHA256:44:A0:19:6B:2B:99:F8:89:B8:E1:49:E9:5B:80:7A:35:0E:74:24:96:43:99:E8:85:"
                "A7:CB:B8:CC:FA:B6:74:D3"),
            *plain);
  EXPECT_EQ(*ParseFingerprintHex(" sha256:" + std::string(kIntelRootPin) + "\n"), *plain);
  EXPECT_ERROR(ParseFingerprintHex(kIntelRootPin.substr(2)), Code::kMalformed,
               "crypto.pin.malformed");
  EXPECT_ERROR(ParseFingerprintHex(std::string(kIntelRootPin) + "00"), Code::kMalformed,
               "crypto.pin.malformed");
  EXPECT_ERROR(ParseFingerprintHex(std::string(63, '0') + "g"), Code::kMalformed,
               "crypto.pin.malformed");
  std::string bad_colons(95, '0');
  EXPECT_ERROR(ParseFingerprintHex(bad_colons.replace(10, 1, ":")), Code::kMalformed,
               "crypto.pin.malformed");
  EXPECT_ERROR(ParseFingerprintHex(""), Code::kMalformed, "crypto.pin.malformed");
}

}  // namespace
}  // namespace lunal::crypto
