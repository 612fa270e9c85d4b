// AMD CRLs [KDS: VCEK Certificate and KDS Interface Specification #57230, "Certificate
// Revocation List": GET /vcek/v1/{product}/crl, DER, issued by the ARK, RSASSA-PSS SHA-384] read
// with RFC 5280's rules: a CRL entry names a certificate by the CRL issuer and a serial
// (§5.1.2.6, §6.3.3 (b)), and the CRL is current when thisUpdate <= as_of < nextUpdate (§5.1.2.4,
// §5.1.2.5).
#include "revocation.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string>

namespace lunal::attest::snp::internal {
namespace {

// Which certificate of the path a CRL speaks for, and what it is called in messages.
struct Role {
  const crypto::Certificate* cert;
  std::string_view name;  // "ARK", "ASK", "ASVK", "VCEK", "VLEK"
};

std::string Describe(const crypto::Crl& crl, const crypto::Certificate& issuer) {
  std::optional<std::chrono::sys_seconds> next = crl.NextUpdate();
  return fmt::format("the CRL of {} (thisUpdate {}, nextUpdate {})", issuer.SubjectCommonName(),
                     FormatRfc3339(FromSeconds(crl.ThisUpdate())),
                     next ? FormatRfc3339(FromSeconds(*next)) : std::string("none"));
}

// Whether `crl` names (as issuer) any ARK, ASK or ASVK of `roots`.
bool NamesAmdCertificate(const crypto::Crl& crl, std::span<const AmdCertificates> roots) {
  const std::string issuer = crl.IssuerName();
  return std::ranges::any_of(roots, [&](const AmdCertificates& amd) {
    return issuer == amd.ark.SubjectName() || issuer == amd.ask.SubjectName() ||
           issuer == amd.asvk.SubjectName();
  });
}

}  // namespace

Result<std::vector<crypto::Crl>> ParseCrls(const std::vector<Bytes>& crls) {
  std::vector<crypto::Crl> out;
  out.reserve(crls.size());
  for (std::size_t i = 0; i < crls.size(); ++i) {
    Result<crypto::Crl> crl = crypto::Crl::FromDerOrPem(crls[i]);
    if (!crl.ok()) {
      return Malformed("snp.crl.unparsable", "CRL {} does not parse: {}", i, crl.error().message());
    }
    out.push_back(std::move(*crl));
  }
  return out;
}

Result<RevocationOutcome> CheckRevocation(std::span<const crypto::Crl> crls, const AmdPath& path,
                                          std::span<const AmdCertificates> roots, Timestamp as_of,
                                          bool require_crl) {
  const std::string_view leaf_name = SigningKeyName(path.key);
  const std::string_view intermediate_name = path.key == SigningKey::kVlek ? "ASVK" : "ASK";
  RevocationOutcome out;
  for (const crypto::Crl& crl : crls) {
    // (a) Whose CRL: the path's ARK speaks for its own certificates (ASK/ASVK, and itself);
    //     the ASK/ASVK for the VCEK/VLEK. Another product's CRL (or the other kind's) does not
    //     apply here; a CRL from no AMD certificate at all is refused.
    const std::string issuer = crl.IssuerName();
    const crypto::Certificate* signer = nullptr;
    std::array<Role, 2> covers{};
    if (issuer == path.ark.SubjectName()) {
      signer = &path.ark;
      covers = {Role{&path.intermediate, intermediate_name}, Role{&path.ark, "ARK"}};
    } else if (issuer == path.intermediate.SubjectName()) {
      signer = &path.intermediate;
      covers = {Role{&path.leaf, leaf_name}, Role{nullptr, ""}};
    } else if (NamesAmdCertificate(crl, roots)) {
      continue;
    } else {
      return VerificationFailed("snp.crl.signature_invalid",
                                "a CRL issued by \"{}\", which is no AMD ARK, ASK or ASVK", issuer);
    }
    // (b) Signed by that certificate (whose own signature the chain has verified).
    if (Status s = crl.VerifySignature(*signer); !s.ok()) {
      return VerificationFailed("snp.crl.signature_invalid", "{}: {}", Describe(crl, *signer),
                                s.message());
    }
    // (c) Current at as_of. A CRL without nextUpdate would never expire: refused as expired.
    const Timestamp this_update = FromSeconds(crl.ThisUpdate());
    const std::optional<std::chrono::sys_seconds> next = crl.NextUpdate();
    if (as_of < this_update) {
      return VerificationFailed("snp.crl.not_yet_valid", "{} is not yet valid at {}",
                                Describe(crl, *signer), FormatRfc3339(as_of));
    }
    if (!next || as_of >= FromSeconds(*next)) {
      return VerificationFailed("snp.crl.expired", "{} has expired at {}", Describe(crl, *signer),
                                FormatRfc3339(as_of));
    }
    // (d) No certificate it speaks for is listed (same issuer name and serial).
    for (const Role& role : covers) {
      if (role.cert != nullptr && crl.IsRevoked(*role.cert)) {
        return VerificationFailed(
            "snp.chain.cert_revoked", "{} chain: the {} \"{}\" (serial {}) is revoked by {}",
            ProductName(path.product), role.name, role.cert->SubjectCommonName(),
            role.cert->SerialHex(), Describe(crl, *signer));
      }
    }
    out.ark_crl_applied = out.ark_crl_applied || signer == &path.ark;
    out.valid_from = std::max(out.valid_from, this_update);
    out.valid_until = std::min(out.valid_until, FromSeconds(*next));
  }
  if (require_crl && !out.ark_crl_applied) return CrlMissing(path.product);
  return out;
}

Status CrlMissing(Product product) {
  return Unavailable("snp.crl.missing",
                     "no CRL from ARK-{} was given and one is required (AMD KDS serves it at "
                     "https://kdsintf.amd.com/vcek/v1/{}/crl)",
                     ProductName(product), ProductName(product));
}

}  // namespace lunal::attest::snp::internal
