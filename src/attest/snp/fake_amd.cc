#include "fake_amd.h"

#include <fmt/format.h>

#include "lunal/attest/snp/report_layout.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/signature.h"
#include "lunal/crypto/x509_builder.h"
#include "test_reports.h"

namespace lunal::attest::snp::testing {
namespace {

namespace L = layout;
using std::chrono::sys_seconds;

constexpr std::string_view kRealVcek =
    "lunal-attestation-rs/crates/attestation/test_data/snp/live-vcek-genoa.der";
constexpr std::string_view kNotAfter = "2047-10-26T00:00:00Z";  // the CAs' (the leaf's: 2033)
constexpr std::string_view kAmdArc = "1.3.6.1.4.1.3704.1.";     // VCEK extensions [KDS]

Result<sys_seconds> At(std::string_view rfc3339) {
  LUNAL_ASSIGN_OR_RETURN(Timestamp t, ParseRfc3339(rfc3339));
  return ToSeconds(t);
}

Result<crypto::Certificate> AmdCa(std::string cn, Bytes serial, std::string_view not_after,
                                  const crypto::PrivateKey& key, const crypto::Certificate* issuer,
                                  const crypto::PrivateKey* issuer_key) {
  crypto::CertificateBuilder builder;
  AddAmdSubject(builder, std::move(cn));
  LUNAL_ASSIGN_OR_RETURN(sys_seconds from, At("2022-10-31T00:00:00Z"));
  LUNAL_ASSIGN_OR_RETURN(sys_seconds until, At(not_after));
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey public_key, key.PublicKey());
  builder.Serial(std::move(serial))
      .Validity(from, until)
      .SubjectKey(public_key)
      .Ca(true, issuer == nullptr ? -1 : 0)
      .Digest(crypto::DigestAlgorithm::kSha384);
  return issuer == nullptr ? builder.SelfSign(key) : builder.SignWith(*issuer, *issuer_key);
}

// ECDSA P-384 over bytes 0..0x29F; r and s little-endian in 72-byte fields [ABI "ECDSA Signature
// Format"].
Status Resign(Bytes& report, const crypto::PrivateKey& key) {
  LUNAL_ASSIGN_OR_RETURN(Bytes rs, crypto::SignEcdsaRaw(key, crypto::DigestAlgorithm::kSha384,
                                                        ByteSpan(report).first(L::kSignedSize)));
  for (std::size_t i = 0; i < L::kSignatureR.size; ++i) {
    report.at(L::kSignatureR.offset + i) = i < 48 ? rs.at(47 - i) : 0;
    report.at(L::kSignatureS.offset + i) = i < 48 ? rs.at(95 - i) : 0;
  }
  return Status();
}

}  // namespace

void AddAmdSubject(crypto::CertificateBuilder& builder, std::string common_name) {
  builder.AddSubjectAttribute("OU", "Engineering")
      .AddSubjectAttribute("C", "US")
      .AddSubjectAttribute("L", "Santa Clara")
      .AddSubjectAttribute("ST", "CA")
      .AddSubjectAttribute("O", "Advanced Micro Devices")
      .AddSubjectAttribute("CN", std::move(common_name));
}

Result<FakeAmd> FakeAmd::Make(SigningKey key, std::string_view intermediate_not_after) {
  using crypto::KeyType;
  using crypto::PrivateKey;
  LUNAL_ASSIGN_OR_RETURN(PrivateKey ark_key, PrivateKey::Generate(KeyType::kEcP384));
  LUNAL_ASSIGN_OR_RETURN(PrivateKey ask_key, PrivateKey::Generate(KeyType::kEcP384));
  LUNAL_ASSIGN_OR_RETURN(PrivateKey asvk_key, PrivateKey::Generate(KeyType::kEcP384));
  LUNAL_ASSIGN_OR_RETURN(PrivateKey leaf_key, PrivateKey::Generate(KeyType::kEcP384));
  // AMD's Genoa serials (ARK 020000, ASK 020002, ASVK 020101) and names.
  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate ark, AmdCa("ARK-Genoa", {0x02, 0x00, 0x00}, kNotAfter,
                                                        ark_key, nullptr, nullptr));
  LUNAL_ASSIGN_OR_RETURN(
      crypto::Certificate ask,
      AmdCa("SEV-Genoa", {0x02, 0x00, 0x02}, intermediate_not_after, ask_key, &ark, &ark_key));
  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate asvk,
                         AmdCa("SEV-VLEK-Genoa", {0x02, 0x01, 0x01}, intermediate_not_after,
                               asvk_key, &ark, &ark_key));

  // The leaf: the real VCEK's validity and AMD extensions (SPLs, and hwID for a VCEK), serial 0.
  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate real,
                         crypto::Certificate::FromDer(ReadEvidence(kRealVcek)));
  crypto::CertificateBuilder builder;
  const bool vlek = key == SigningKey::kVlek;
  AddAmdSubject(builder, vlek ? "SEV-VLEK" : "SEV-VCEK");
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey leaf_public, leaf_key.PublicKey());
  builder.Serial({0x00})
      .Validity(real.NotBefore(), real.NotAfter())
      .SubjectKey(leaf_public)
      .Digest(crypto::DigestAlgorithm::kSha384);
  for (const std::string& oid : real.ExtensionOids()) {
    if (!oid.starts_with(kAmdArc) || (vlek && oid == oid::kHwId)) continue;
    builder.AddExtension(oid, *real.Extension(oid), /*critical=*/false);
  }
  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate leaf,
                         vlek ? builder.SignWith(asvk, asvk_key) : builder.SignWith(ask, ask_key));

  Bytes report = ReadEvidence(kReportV5);
  if (vlek) {  // SIGNING_KEY (FLAGS bits 4:2) = 1
    report.at(L::kFlags.offset) = static_cast<std::uint8_t>(report.at(L::kFlags.offset) | 0x04);
  }
  LUNAL_RETURN_IF_ERROR(Resign(report, leaf_key));
  LUNAL_ASSIGN_OR_RETURN(Timestamp as_of, ParseRfc3339("2029-08-19T11:01:36Z"));
  AmdCertificates roots{.product = Product::kGenoa,
                        .ark = ark,
                        .ask = ask,
                        .asvk = asvk,
                        .anchor = {.der_sha256 = ark.Sha256OfDer(), .label = "Fake ARK-Genoa"}};
  return FakeAmd{.ark_key = std::move(ark_key),
                 .ask_key = std::move(ask_key),
                 .asvk_key = std::move(asvk_key),
                 .leaf_key = std::move(leaf_key),
                 .roots = std::move(roots),
                 .leaf = leaf,
                 .report = std::move(report),
                 .as_of = as_of};
}

Result<crypto::Crl> FakeAmd::CrlFrom(const crypto::Certificate& issuer,
                                     std::string_view this_update,
                                     std::optional<std::string_view> next_update,
                                     const std::vector<std::string>& revoked) const {
  const crypto::PrivateKey* key = issuer == roots.ark    ? &ark_key
                                  : issuer == roots.ask  ? &ask_key
                                  : issuer == roots.asvk ? &asvk_key
                                                         : nullptr;
  if (key == nullptr) return InvalidArgument("test.fake_amd", "not an issuer of this hierarchy");
  LUNAL_ASSIGN_OR_RETURN(sys_seconds from, At(this_update));
  std::optional<sys_seconds> until;
  if (next_update) {
    LUNAL_ASSIGN_OR_RETURN(until, At(*next_update));
  }
  crypto::CrlBuilder builder;
  builder.Updates(from, until).Digest(crypto::DigestAlgorithm::kSha384);
  for (const std::string& serial : revoked) builder.Revoke(serial, from);
  return builder.Sign(issuer, *key);
}

}  // namespace lunal::attest::snp::testing
