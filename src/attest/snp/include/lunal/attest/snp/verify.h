// VerifyReport: AMD SEV-SNP attestation report verification as one numbered pipeline
// (verify.cc), offline, against AMD's pinned roots, as of a stated time.
//
// What "verified" means: the report is well formed (report.h); it was signed (ECDSA P-384,
// SHA-384, over bytes 0..0x29F) by the VCEK or VLEK certificate given; that certificate chains
// ARK → ASK → VCEK (or ARK → ASVK → VLEK) to the product's ARK pinned by SHA-256 (RSASSA-PSS,
// SHA-384, salt 48), every certificate valid at `as_of`; and the certificate's SPL extensions
// equal REPORTED_TCB and (VCEK, unless MASK_CHIP_KEY) its hwID equals CHIP_ID. The guest policy
// (debug, ...) is reported, not judged: that is policy's job (layer 4).
//
// Not checked: AMD's CRLs (none are available offline; ChainOptions::CrlPolicy::kNone).
//
// Errors (stable reasons; the first failing step decides):
//   ParseReport's reasons (snp.report.*, snp.policy.*)
//   kVerificationFailed snp.report.unsigned (SIGNING_KEY 7), snp.report.signature_invalid,
//     snp.chain.<reason> (VerifyChain's crypto.chain.<reason>: signature_invalid, cert_expired,
//     cert_not_yet_valid, untrusted_root, no_path, ...), snp.vcek.wrong_kind (a VCEK given for a
//     VLEK-signed report or the reverse), snp.vcek.tcb_mismatch, snp.vcek.chip_id_mismatch,
//     snp.report_data.mismatch
//   kUnavailable snp.vcek.missing (no certificate given)
//   kMalformed snp.vcek.unparsable, snp.vcek.extension, snp.vcek.missing_extension
//   kInvalidArgument snp.options.as_of (as_of unset)
//
// Thread-safety: VerifyReport is a pure function of its arguments.
#pragma once

#include <cstdint>
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
  Timestamp as_of;  // required: every certificate must be valid then
  // The VCEK or VLEK certificate: DER, or PEM (the first certificate of a PEM chain is taken).
  std::optional<Bytes> signing_cert = std::nullopt;
  // When set, REPORT_DATA must equal these 64 bytes.
  std::optional<Bytes> expected_report_data = std::nullopt;
};

// The verified claims, as copies (they outlive the report bytes). Only VerifyReport makes one.
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
  Timestamp as_of;

  // The "tee", "measurements" and "platform_verification" objects of the verification record
  // (DESIGN.md, SNP names).
  Json ToJson() const;
};

Result<SnpVerification> VerifyReport(ByteSpan report, const VerifyOptions& options);

}  // namespace lunal::attest::snp
