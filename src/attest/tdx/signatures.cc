#include "lunal/attest/tdx/signatures.h"

#include <algorithm>

#include "lunal/attest/tdx/quote_layout.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/signature.h"

namespace lunal::attest::tdx {

using crypto::DigestAlgorithm;

Status CheckQeVendor(const QuoteView& quote) {
  if (std::equal(quote.header.qe_vendor_id.begin(), quote.header.qe_vendor_id.end(),
                 layout::kIntelQeVendorId.begin())) {
    return Status();
  }
  return Unsupported("tdx.header.unknown_qe_vendor",
                     "QE vendor id {} is not Intel's ({}); no other quoting enclave is trusted",
                     HexEncode(quote.header.qe_vendor_id), HexEncode(layout::kIntelQeVendorId));
}

Result<crypto::PublicKey> AttestationKeyOf(const QuoteView& quote) {
  auto key = crypto::PublicKey::FromEcPoint(crypto::Curve::kP256, quote.attestation_key);
  if (!key.ok()) {
    return VerificationFailed("tdx.attestation_key.invalid",
                              "the attestation key is not a P-256 public key: {}",
                              key.error().message());
  }
  return key;
}

Status VerifyQuoteSignature(const QuoteView& quote, const crypto::PublicKey& attestation_key) {
  Status s = crypto::VerifyEcdsaRaw(attestation_key, DigestAlgorithm::kSha256, quote.signed_region,
                                    quote.signature);
  if (!s.ok()) {
    return VerificationFailed("tdx.quote.signature_invalid",
                              "the quote signature over the header and TD report body does not "
                              "verify under the attestation key: {}",
                              s.message());
  }
  return Status();
}

Status VerifyQuoteSignature(const QuoteView& quote) {
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey key, AttestationKeyOf(quote));
  return VerifyQuoteSignature(quote, key);
}

Status VerifyQeReportSignature(const QuoteView& quote, const crypto::PublicKey& pck_key) {
  if (pck_key.Type() != crypto::KeyType::kEcP256) {
    return VerificationFailed("tdx.pck.key_not_p256", "the PCK certificate's key is not P-256");
  }
  Status s = crypto::VerifyEcdsaRaw(pck_key, DigestAlgorithm::kSha256, quote.qe_report.raw,
                                    quote.qe_report_signature);
  if (!s.ok()) {
    return VerificationFailed("tdx.qe_report.signature_invalid",
                              "the QE report signature does not verify under the PCK "
                              "certificate's key: {}",
                              s.message());
  }
  return Status();
}

Status VerifyAttestationKeyBinding(const QuoteView& quote) {
  // One contiguous buffer and a one-shot digest: this runs for every quote.
  Bytes signed_bytes;
  signed_bytes.reserve(quote.attestation_key.size() + quote.qe_auth_data.size());
  signed_bytes.insert(signed_bytes.end(), quote.attestation_key.begin(),
                      quote.attestation_key.end());
  signed_bytes.insert(signed_bytes.end(), quote.qe_auth_data.begin(), quote.qe_auth_data.end());
  const auto expected = crypto::Sha256(signed_bytes);
  ByteSpan report_data = quote.qe_report.report_data;
  if (!ConstantTimeEqual(report_data.first(32), expected)) {
    return VerificationFailed(
        "tdx.qe_report.attestation_key_binding",
        "QE report data[0:32] is {}, but SHA-256(attestation key ‖ QE auth data) is {}: the QE "
        "did not certify this attestation key",
        HexEncode(report_data.first(32)), HexEncode(expected));
  }
  ByteSpan tail = report_data.subspan(32);
  if (std::any_of(tail.begin(), tail.end(), [](std::uint8_t b) { return b != 0; })) {
    return VerificationFailed("tdx.qe_report.report_data_not_zero",
                              "QE report data[32:64] must be zero, is {}", HexEncode(tail));
  }
  return Status();
}

Result<PckChain> ParsePckChain(const QuoteView& quote) {
  auto certs = crypto::ParsePemChain(quote.pck_cert_chain_pem);
  if (!certs.ok()) {
    return Malformed("tdx.pck_chain.parse_failed", "the PCK certificate chain in the quote: {}",
                     certs.error().message());
  }
  if (certs->size() < 2) {
    return Malformed("tdx.pck_chain.too_short",
                     "the PCK certificate chain holds {} certificate(s); a leaf and its issuing "
                     "CA are required",
                     certs->size());
  }
  PckChain chain{.leaf = (*certs)[0], .issuers = {certs->begin() + 1, certs->end()}};
  return chain;
}

}  // namespace lunal::attest::tdx
