// Containers a TDX quote arrives in: finds the quote bytes in a file's contents.
//
//   LUNAL_ASSIGN_OR_RETURN(DecodedQuote decoded, DecodeQuoteContainer(file_bytes));
//   LUNAL_ASSIGN_OR_RETURN(QuoteView quote, ParseQuote(decoded.quote));
//   fmt::print("container: {}\n", ContainerName(decoded.container));
//
// Detection, in order (the first that applies decides; nothing is tried "just in case"):
//   raw       the bytes start with a little-endian 4 or 5 (a quote version), or are not text;
//             returned unchanged (zero padding is ParseQuote's business)
//   JSON      text whose first non-blank character is '{' (parsed strictly: lunal::ParseJson),
//             one of the envelopes below
//   hex       text made only of hex digits (ASCII whitespace anywhere is ignored)
//   base64    any other text: RFC 4648 base64, standard or URL-safe alphabet (chosen by which
//             of '+/' or '-_' appear), padding optional, whitespace ignored
//
// JSON envelopes (a quote value is a base64/base64url/hex string, or an array of byte values):
//   kLunalEnvelope        {"platform": "tdx", "quote": …, ...}      DESIGN.md evidence envelope
//   kAttestationRsTdx     {"platform": "tdx"|"gcp-tdx", "evidence": {"quote": …, "cc_eventlog"}}
//                         lunal-dev/attestation-rs AttestationEvidence wrapping TdxEvidence
//   kAttestationRsAzTdx   {"platform": "az-tdx", "evidence": {"td_quote": …, "hcl_report", …}}
//                         lunal-dev/attestation-rs AttestationEvidence wrapping AzTdxEvidence
//   kAzureTdxVtpm         {"tpm_quote": …, "hcl_report": …, "td_quote": …[, "version": 1]}
//                         Azure TDX vTPM evidence: trustee az-tdx-vtpm (v0: byte arrays; v1:
//                         base64url strings) and attestation-rs AzTdxEvidence unwrapped
//   kQuoteJson            {"quote": …, ...} without "platform": TdxEvidence of trustee and of
//                         attestation-rs (base64), e.g. {"cc_eventlog": …, "quote": …}
// Only the TD quote is extracted; for Azure evidence the HCL report and TPM quote that bind
// REPORT_DATA stay in the file for a later Azure vTPM verifier.
//
// Errors: kMalformed tdx.container.unrecognized (text that is none of the above; the message
// names what was tried and why each failed), tdx.container.empty, tdx.container.bad_byte_array
// (a JSON byte array with a value outside 0..255); kUnsupported
// tdx.container.wrong_platform (an envelope for another TEE, e.g. "snp"); JSON and decoding
// errors keep their own reasons (json.syntax, json.wrong_type, hex.*, base64.*) with the JSON
// path in the message.
//
// The returned bytes are a copy; the input may be released. Thread-safe (no shared state).
#pragma once

#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::tdx {

enum class Container {
  kRaw,
  kHex,
  kBase64,
  kLunalEnvelope,
  kAttestationRsTdx,
  kAttestationRsAzTdx,
  kAzureTdxVtpm,
  kQuoteJson,
};

// Stable names for output: "raw", "hex", "base64", "lunal-envelope", "attestation-rs-tdx",
// "attestation-rs-az-tdx", "azure-tdx-vtpm", "quote-json".
std::string_view ContainerName(Container container);

struct DecodedQuote {
  Bytes quote;  // the quote, possibly with padding after it
  Container container;
};

Result<DecodedQuote> DecodeQuoteContainer(ByteSpan file_bytes);

}  // namespace lunal::attest::tdx
