// The signature steps of TDX quote verification: everything that can be checked from the quote
// alone plus the pinned Intel root, before any collateral (TCB Info, QE identity) is consulted.
//
// Intel's chain of trust inside one quote (Intel TDX DCAP Quoting Library API, "Quote Format";
// docs/formats/tdx-quote.md):
//   Intel SGX Root CA ─signs→ PCK Platform/Processor CA ─signs→ PCK certificate (per platform)
//   PCK key ─signs→ QE report (the Quoting Enclave's SGX report, 384 bytes)
//   QE report.report_data[0:32] = SHA-256(attestation key ‖ QE auth data), [32:64] = 0
//   attestation key ─signs→ header ‖ TD report body (the quote signature)
//
// Each function checks one link and fails with a stable reason; VerifyTdxQuote (verify.h) runs
// them in order.
#pragma once

#include <vector>

#include "lunal/attest/tdx/quote.h"
#include "lunal/common/result.h"
#include "lunal/crypto/keys.h"
#include "lunal/crypto/x509.h"

namespace lunal::attest::tdx {

// Step 1. The quote signature: ECDSA P-256 / SHA-256 by the attestation key over
// `signed_region` (header ‖ [v5 descriptor] ‖ body). Also rejects an attestation key that is not
// a point on P-256. Reasons: tdx.attestation_key.invalid, tdx.quote.signature_invalid.
Status VerifyQuoteSignature(const QuoteView& quote);

// The attestation key as a P-256 public key (reason tdx.attestation_key.invalid), and step 1
// with a key already imported (the verifier caches keys: a QE keeps its key across quotes).
Result<crypto::PublicKey> AttestationKeyOf(const QuoteView& quote);
Status VerifyQuoteSignature(const QuoteView& quote, const crypto::PublicKey& attestation_key);

// Step 2. The QE report signature: ECDSA P-256 / SHA-256 by the PCK certificate's key over the
// 384-byte QE report. Reasons: tdx.pck.key_not_p256, tdx.qe_report.signature_invalid.
Status VerifyQeReportSignature(const QuoteView& quote, const crypto::PublicKey& pck_key);

// Step 3. The QE report binds the attestation key: report_data[0:32] equals
// SHA-256(attestation key ‖ QE auth data) and report_data[32:64] is zero.
// Reasons: tdx.qe_report.attestation_key_binding, tdx.qe_report.report_data_not_zero.
Status VerifyAttestationKeyBinding(const QuoteView& quote);

// Step 0. The QE vendor is Intel (header.qe_vendor_id). Reason: tdx.header.unknown_qe_vendor.
Status CheckQeVendor(const QuoteView& quote);

// The PCK chain carried in certification data type 5: leaf first, as Intel orders it.
struct PckChain {
  crypto::Certificate leaf;
  std::vector<crypto::Certificate> issuers;  // intermediate CA and root as given in the quote
};

// Parses the PEM chain (at least two certificates: a leaf and its issuer).
// Reasons: tdx.pck_chain.parse_failed, tdx.pck_chain.too_short.
Result<PckChain> ParsePckChain(const QuoteView& quote);

}  // namespace lunal::attest::tdx
