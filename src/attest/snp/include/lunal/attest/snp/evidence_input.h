// Containers an SNP attestation report arrives in: finds the report (and, when the container
// carries one, the VCEK/VLEK certificate) in a file's contents.
//
//   LUNAL_ASSIGN_OR_RETURN(DecodedReport decoded, DecodeReportContainer(file_bytes));
//   LUNAL_ASSIGN_OR_RETURN(ReportView report, ParseReport(decoded.report));
//
// Detection, in order (the first that applies decides):
//   HCL       bytes starting "HCLA": an Azure HCL report, whose SNP report is the 1184 bytes at
//             offset 0x20 (the rest, the HCL runtime data, stays for an Azure vTPM verifier)
//   raw       bytes starting with a little-endian u32 report version (2..5), or not text
//   JSON      text starting with '{', one of the envelopes below
//   hex       text made only of hex digits (whitespace ignored)
//   base64    any other text (standard or URL-safe alphabet, padding optional)
//
// JSON envelopes (a report value is a hex/base64 string or an array of byte values; an HCL
// report inside one is unwrapped as above):
//   kAttestationRsSnp    {"platform": "snp", "evidence": {"attestation_report": …,
//                        "cert_chain": {"vcek": …}}}            lunal-dev/attestation-rs
//   kAttestationRsAzSnp  {"platform": "az-snp", "evidence": {"hcl_report": …, "vcek": …, …}}
//   kAzureSnpVtpm        {"hcl_report": …, "vcek": …, "tpm_quote": …} (trustee az-snp-vtpm v1/v2)
//                        or {"report": [bytes], "vcek": "PEM", "quote": …} (v0)
//   kTrusteeSnpDecoded   {"attestation_report": {"version": 3, "policy": …, "measurement":
//                        [bytes], …}, "cert_chain": [{"cert_type": "VCEK", "data": [bytes]}]}
//                        trustee SnpEvidence: the report as decoded fields (virtee/sev serde),
//                        re-encoded to its 1184 bytes with reserved ranges zero. Only the report
//                        signature proves the re-encoding faithful: never trust these bytes
//                        without VerifyReport.
//
// Errors: kMalformed snp.container.empty, snp.container.unrecognized,
// snp.container.bad_byte_array, snp.container.hcl_truncated; kUnsupported
// snp.container.wrong_platform; JSON and decoding errors keep their reasons (json.*, hex.*,
// base64.*) with the JSON path in the message.
//
// The returned bytes are copies. Thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::snp {

enum class Container {
  kRaw,
  kHclReport,
  kHex,
  kBase64,
  kAttestationRsSnp,
  kAttestationRsAzSnp,
  kAzureSnpVtpm,
  kTrusteeSnpDecoded,
};

// "raw", "hcl-report", "hex", "base64", "attestation-rs-snp", "attestation-rs-az-snp",
// "azure-snp-vtpm", "trustee-snp-decoded".
std::string_view ContainerName(Container container);

struct DecodedReport {
  Bytes report;  // the report, possibly with padding after it
  Container container;
  bool from_hcl_report = false;  // the report was unwrapped from an Azure HCL report
  // The signing certificate, when the container carries one: DER, or PEM text (possibly a chain,
  // leaf first, as Azure serves it).
  std::optional<Bytes> vcek = std::nullopt;
};

Result<DecodedReport> DecodeReportContainer(ByteSpan file_bytes);

}  // namespace lunal::attest::snp
