// DecodeAzureEvidence: the containers Azure vTPM evidence travels in, taken apart into the HCL
// report, the vTPM quote and the hardware evidence beside it (a VCEK for SNP, a TD quote for TDX).
//
// Shapes (from the real files in ../shared/evidence):
//   kHclReport           the raw HCL report ("HCLA..."), alone: no vTPM quote, no certificate
//   kAttestationRsAzSnp  {"platform": "az-snp", "evidence": {"version", "tpm_quote",
//                         "hcl_report", "vcek"}}              (lunal-dev/attestation-rs)
//   kAttestationRsAzTdx  {"platform": "az-tdx", "evidence": {"version", "tpm_quote",
//                         "hcl_report", "td_quote"}}
//   kTrusteeAzSnpVtpm    {"quote"|"tpm_quote": {...}, "report"|"hcl_report": ..., "vcek": ...}
//                        (confidential-containers/trustee az-snp-vtpm, v0 byte arrays, v1/v2 text)
//   kTrusteeAzTdxVtpm    {"tpm_quote": {...}, "hcl_report": ..., "td_quote": ...}
// where tpm_quote is {"message", "signature", "pcrs": [24 values]}; byte fields are hex, base64
// (standard or URL-safe) or arrays of byte values; a VCEK is base64 DER or PEM text.
//
// Errors: kUnsupported azure.container.not_azure (none of these shapes: the caller may try plain
// TDX or SNP containers); kMalformed azure.container.platform (an attestation-rs "platform" that
// is not az-snp/az-tdx), azure.container.pcrs, azure.container.bad_byte_array, and json.* /
// hex.* / base64.* with the JSON path in the message.
//
// Copies the bytes it returns. Thread-safe.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "lunal/attest/azure/hcl_report.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::azure {

enum class Container {
  kHclReport,
  kAttestationRsAzSnp,
  kAttestationRsAzTdx,
  kTrusteeAzSnpVtpm,
  kTrusteeAzTdxVtpm,
};

// "hcl-report", "attestation-rs-az-snp", "attestation-rs-az-tdx", "azure-snp-vtpm",
// "azure-tdx-vtpm".
std::string_view ContainerName(Container container);

struct TpmQuoteParts {
  Bytes message;            // TPMS_ATTEST
  Bytes signature;          // RSASSA-PKCS1-v1_5 signature, raw (modulus-sized)
  std::vector<Bytes> pcrs;  // PCR values of the SHA-256 bank, index order
};

struct AzureEvidence {
  Container container = Container::kHclReport;
  HclReportType tee = HclReportType::kSnp;  // from the container (JSON) or the HCL report (raw)
  Bytes hcl_report = {};
  std::optional<TpmQuoteParts> tpm_quote = std::nullopt;
  std::optional<Bytes> vcek = std::nullopt;      // SNP: DER, or PEM text (maybe a chain)
  std::optional<Bytes> td_quote = std::nullopt;  // TDX: the quote of the same TD
};

Result<AzureEvidence> DecodeAzureEvidence(ByteSpan file_bytes);

}  // namespace lunal::attest::azure
