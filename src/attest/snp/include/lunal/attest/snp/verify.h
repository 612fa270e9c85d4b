// AMD SEV-SNP attestation report verification as one numbered pipeline (verify.cc), offline,
// against AMD's pinned roots and optional AMD CRLs, as of a stated time.
//
// What "verified" means: the report is well formed (report.h); it was signed (ECDSA P-384,
// SHA-384, over bytes 0..0x29F) by the VCEK or VLEK certificate given; that certificate chains
// ARK → ASK → VCEK (or ARK → ASVK → VLEK) to the product's ARK pinned by SHA-256 (RSASSA-PSS,
// SHA-384, salt 48), every certificate valid at `as_of` (notBefore <= as_of < notAfter); no CRL
// given for that path revokes a certificate of it, and each such CRL verifies and is current;
// and the certificate's SPL extensions equal REPORTED_TCB and (VCEK, unless MASK_CHIP_KEY) its
// hwID equals CHIP_ID. The guest policy (debug, ...) is reported, not judged: that is policy's
// job (layer 4).
//
// CRLs [KDS "Certificate Revocation List"]: AMD serves one per product (…/vcek/v1/<product>/crl),
// issued and signed (RSASSA-PSS SHA-384) by the ARK; it lists revoked ASK/ASVK serials. A CRL
// applies to a path when its issuer name is the path's ARK (it then speaks for the ASK/ASVK and
// the ARK) or the path's ASK/ASVK (it then speaks for the VCEK/VLEK: RFC 5280 §5.1.2.6 entries
// name certificates of the CRL's issuer only, so the ARK's CRL cannot revoke a VCEK, whose issuer
// is the ASK; AMD gives every VCEK serial 0 besides). An applicable CRL must verify under that
// certificate and satisfy thisUpdate <= as_of < nextUpdate. CRLs naming another product's (or the
// other kind's) AMD certificates are ignored; a CRL naming no AMD certificate is refused.
//
// Errors (stable reasons; the first failing step decides):
//   ParseReport's reasons (snp.report.*, snp.policy.*)
//   kVerificationFailed snp.report.unsigned (SIGNING_KEY 7), snp.report.signature_invalid,
//     snp.vcek.expired / snp.vlek.expired (the signing certificate is past its notAfter; the
//     message starts "VCEK expired:" / "VLEK expired:" and gives the notAfter),
//     snp.chain.<reason> (VerifyChain's crypto.chain.<reason>: signature_invalid, cert_expired
//     (ASK/ASVK/ARK), cert_not_yet_valid, untrusted_root, no_path, ...),
//     snp.chain.cert_revoked (a CRL lists a certificate of the path; the message names it),
//     snp.crl.signature_invalid (a CRL that does not verify under the AMD certificate it names,
//     or names none), snp.crl.expired (as_of >= nextUpdate, or no nextUpdate),
//     snp.crl.not_yet_valid (as_of < thisUpdate),
//     snp.vcek.wrong_kind (a VCEK given for a VLEK-signed report or the reverse),
//     snp.vcek.tcb_mismatch, snp.vcek.chip_id_mismatch, snp.report_data.mismatch
//   kUnavailable snp.vcek.missing (no certificate given), snp.crl.missing (require_crl and no
//     CRL from the product's ARK given)
//   kMalformed snp.vcek.unparsable, snp.vcek.extension, snp.vcek.missing_extension,
//     snp.crl.unparsable
//   kInvalidArgument snp.options.as_of (as_of unset)
//
// Thread-safety: VerifyReport is a pure function of its arguments. A Verifier is immutable after
// construction except for its internal cache, which is synchronised: Verify may be called from
// many threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lunal/attest/snp/report.h"
#include "lunal/attest/snp/signatures.h"
#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"

namespace lunal::attest::snp {

struct VerifyOptions {
  Timestamp as_of;  // required: every certificate (and applicable CRL) must be valid then
  // The VCEK or VLEK certificate: DER, or PEM (the first certificate of a PEM chain is taken).
  std::optional<Bytes> signing_cert = std::nullopt;
  // When set, REPORT_DATA must equal these 64 bytes.
  std::optional<Bytes> expected_report_data = std::nullopt;
  // AMD CRLs, each DER or PEM (as KDS serves them: https://kdsintf.amd.com/vcek/v1/<product>/crl).
  // Which apply is decided per report (above); give only CRLs you mean to rely on.
  std::vector<Bytes> crls = {};
  // Fail closed (snp.crl.missing) unless a CRL issued by the product's ARK is given.
  bool require_crl = false;
};

// The verified claims, as copies (they outlive the report bytes). Only the verifier makes one.
struct SnpVerification {
  std::uint32_t version = 0;
  Product product = Product::kMilan;
  std::string product_source;  // "cpuid", "certificate issuer" or "chain"
  SigningKey signing_key = SigningKey::kVcek;
  Bytes measurement, report_data, host_data, chip_id, id_key_digest, author_key_digest;
  std::uint32_t guest_svn = 0, vmpl = 0;
  std::uint64_t policy = 0;
  bool debug = false;
  std::vector<std::string> policy_flags;
  TcbParts reported_tcb;
  std::string certificate_chain;  // "AMD ARK-Genoa (pinned) → SEV-Genoa → SEV-VCEK"
  // A current CRL from the product's ARK was applied (the ASK/ASVK is not revoked).
  bool revocation_checked = false;
  // The end of the window in which the path stays valid: the earliest notAfter of the three
  // certificates and nextUpdate of the CRLs applied (exclusive).
  Timestamp collateral_valid_until;
  Timestamp as_of;

  // The "tee", "measurements" and "platform_verification" objects of the verification record
  // (DESIGN.md, SNP names).
  Json ToJson() const;
};

// The report verifier with a warm cache. Per signing certificate (keyed by SHA-256 of the
// certificate bytes as given and of each CRL given) it keeps the parsed certificate, its
// imported P-384 key, its parsed extensions, the validated path and the window of as-of times in
// which that path stays valid ([latest notBefore / CRL thisUpdate, earliest notAfter / CRL
// nextUpdate)). A warm call parses the report, checks one ECDSA P-384 signature and compares; an
// as-of time outside the window validates the path again. Results equal VerifyReport's.
class Verifier {
 public:
  static constexpr std::size_t kDefaultCacheEntries = 1024;

  // AMD's embedded roots (ARK pinned, ASK/ASVK embedded) for Milan, Genoa and Turin.
  explicit Verifier(std::size_t max_cache_entries = kDefaultCacheEntries);
  // Other roots: for tests and simulations only (each AmdCertificates' anchor pins its ARK).
  explicit Verifier(std::vector<AmdCertificates> roots,
                    std::size_t max_cache_entries = kDefaultCacheEntries);
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  Result<SnpVerification> Verify(ByteSpan report, const VerifyOptions& options) const;

  // Entries in the cache now (at most max_cache_entries; the least recently used is evicted).
  std::size_t CacheSize() const;

 private:
  struct Cache;
  std::shared_ptr<const std::vector<AmdCertificates>> roots_;
  std::unique_ptr<Cache> cache_;
};

// Uncached: a fresh Verifier for one report.
Result<SnpVerification> VerifyReport(ByteSpan report, const VerifyOptions& options);

}  // namespace lunal::attest::snp
