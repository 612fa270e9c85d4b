// DecodeReportContainer: raw, Azure HCL, hex, base64 and the JSON envelopes SNP reports travel
// in. The JSON shapes were taken from real files in ../shared/evidence (evidence_input.h).
#include "lunal/attest/snp/evidence_input.h"

#include <fmt/format.h>

#include <string>

#include "decoded_report_json.h"
#include "lunal/attest/evidence_text.h"
#include "lunal/attest/snp/report_layout.h"
#include "lunal/common/byte_reader.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"

namespace lunal::attest::snp {
namespace {

Container ContainerOf(TextEncoding encoding) {
  return encoding == TextEncoding::kHex ? Container::kHex : Container::kBase64;
}

constexpr std::string_view kHclMagic = "HCLA";

bool LooksHcl(ByteSpan bytes) { return AsStringView(bytes).substr(0, 4) == kHclMagic; }

// A raw report starts with its version, a little-endian u32 of 2..5.
bool LooksRaw(ByteSpan bytes) {
  ByteReader r(bytes);
  Result<std::uint32_t> version = r.U32Le("snp.container.version");
  return version.ok() && *version >= layout::kVersion2 && *version <= layout::kVersion5;
}

// The SNP report inside an Azure HCL report (offset 0x20), copied.
Result<Bytes> UnwrapHcl(ByteSpan hcl) {
  ByteReader r(hcl);
  Status skip = r.Skip(layout::kHclReportOffset, "snp.container.hcl_header");
  Result<ByteSpan> report = r.Bytes(layout::kReportSize, "snp.container.hcl_report");
  if (!skip.ok() || !report.ok()) {
    return Malformed("snp.container.hcl_truncated",
                     "an HCL report needs {} bytes for its SNP report, has {}",
                     layout::kHclReportOffset + layout::kReportSize, hcl.size());
  }
  return Bytes(report->begin(), report->end());
}

Result<Bytes> BytesMember(const Json& object, std::string_view key, std::string_view path) {
  return JsonBytesMember(object, key, path, "snp", PemText::kKeep);
}

// A report member: raw report bytes, or an HCL report to unwrap.
Result<DecodedReport> ReportMember(const Json& object, std::string_view key, std::string_view path,
                                   Container container) {
  LUNAL_ASSIGN_OR_RETURN(Bytes bytes, BytesMember(object, key, path));
  DecodedReport out{.report = {}, .container = container};
  if (LooksHcl(bytes)) {
    LUNAL_ASSIGN_OR_RETURN(out.report, UnwrapHcl(bytes));
    out.from_hcl_report = true;
  } else {
    out.report = std::move(bytes);
  }
  return out;
}

Result<DecodedReport> AttestationRsEnvelope(const Json& doc) {
  LUNAL_ASSIGN_OR_RETURN(std::string platform, JsonString(doc, "platform"));
  LUNAL_ASSIGN_OR_RETURN(const Json* evidence, JsonObject(doc, "evidence"));
  if (platform == "snp") {
    LUNAL_ASSIGN_OR_RETURN(
        DecodedReport out,
        ReportMember(*evidence, "attestation_report", "evidence", Container::kAttestationRsSnp));
    if (evidence->contains("cert_chain")) {
      LUNAL_ASSIGN_OR_RETURN(const Json* chain, JsonObject(*evidence, "cert_chain", "evidence"));
      if (chain->contains("vcek")) {
        LUNAL_ASSIGN_OR_RETURN(out.vcek, BytesMember(*chain, "vcek", "evidence.cert_chain"));
      }
    }
    return out;
  }
  if (platform == "az-snp") {
    LUNAL_ASSIGN_OR_RETURN(DecodedReport out, ReportMember(*evidence, "hcl_report", "evidence",
                                                           Container::kAttestationRsAzSnp));
    LUNAL_ASSIGN_OR_RETURN(out.vcek, BytesMember(*evidence, "vcek", "evidence"));
    return out;
  }
  return Unsupported("snp.container.wrong_platform",
                     "platform: evidence for platform \"{}\" holds no SNP report", platform);
}

// trustee SnpEvidence: {"attestation_report": {decoded fields}, "cert_chain": [{"cert_type":
// "VCEK"|"VLEK", "data": [bytes]}, ...]}.
Result<DecodedReport> TrusteeDecoded(const Json& doc) {
  LUNAL_ASSIGN_OR_RETURN(const Json* fields, JsonObject(doc, "attestation_report"));
  DecodedReport out{.report = {}, .container = Container::kTrusteeSnpDecoded};
  LUNAL_ASSIGN_OR_RETURN(out.report, internal::EncodeDecodedReport(*fields, "attestation_report"));
  if (!doc.contains("cert_chain") || doc["cert_chain"].is_null()) return out;
  LUNAL_ASSIGN_OR_RETURN(const Json* chain, JsonArray(doc, "cert_chain"));
  for (std::size_t i = 0; i < chain->size(); ++i) {
    const std::string path = JsonPath("cert_chain", i);
    LUNAL_ASSIGN_OR_RETURN(std::string type, JsonString((*chain)[i], "cert_type", path));
    if (type == "VCEK" || type == "VLEK") {
      LUNAL_ASSIGN_OR_RETURN(out.vcek, BytesMember((*chain)[i], "data", path));
      break;
    }
  }
  return out;
}

Result<DecodedReport> DecodeJson(std::string_view text) {
  LUNAL_ASSIGN_OR_RETURN(Json doc, ParseJson(text));
  if (!doc.is_object()) {
    return Malformed("snp.container.unrecognized", "JSON evidence must be an object, got {}",
                     JsonTypeName(doc));
  }
  if (doc.contains("platform")) return AttestationRsEnvelope(doc);
  if (doc.contains("hcl_report") || doc.contains("report")) {
    const std::string_view key = doc.contains("hcl_report") ? "hcl_report" : "report";
    LUNAL_ASSIGN_OR_RETURN(DecodedReport out, ReportMember(doc, key, "", Container::kAzureSnpVtpm));
    if (doc.contains("vcek")) {
      LUNAL_ASSIGN_OR_RETURN(out.vcek, BytesMember(doc, "vcek", ""));
    }
    return out;
  }
  if (doc.contains("attestation_report")) return TrusteeDecoded(doc);
  return Malformed("snp.container.unrecognized",
                   "JSON evidence has none of \"platform\", \"hcl_report\", \"report\", "
                   "\"attestation_report\"");
}

}  // namespace

std::string_view ContainerName(Container container) {
  switch (container) {
    case Container::kRaw:
      return "raw";
    case Container::kHclReport:
      return "hcl-report";
    case Container::kHex:
      return "hex";
    case Container::kBase64:
      return "base64";
    case Container::kAttestationRsSnp:
      return "attestation-rs-snp";
    case Container::kAttestationRsAzSnp:
      return "attestation-rs-az-snp";
    case Container::kAzureSnpVtpm:
      return "azure-snp-vtpm";
    case Container::kTrusteeSnpDecoded:
      return "trustee-snp-decoded";
  }
  return "unknown";
}

Result<DecodedReport> DecodeReportContainer(ByteSpan file_bytes) {
  if (file_bytes.empty()) return Malformed("snp.container.empty", "the evidence file is empty");
  if (LooksHcl(file_bytes)) {
    LUNAL_ASSIGN_OR_RETURN(Bytes report, UnwrapHcl(file_bytes));
    return DecodedReport{
        .report = std::move(report), .container = Container::kHclReport, .from_hcl_report = true};
  }
  const std::string_view text = AsStringView(file_bytes);
  if (LooksRaw(file_bytes) || !IsText(text)) {
    return DecodedReport{.report = Bytes(file_bytes.begin(), file_bytes.end()),
                         .container = Container::kRaw};
  }
  const std::string_view trimmed = TrimAsciiSpace(text);
  if (trimmed.starts_with("{")) return DecodeJson(trimmed);
  Result<DecodedText> decoded = DecodeEvidenceText(trimmed);
  if (!decoded.ok()) {
    return Malformed("snp.container.unrecognized", "text evidence is not JSON, hex or base64 ({})",
                     decoded.error().message());
  }
  DecodedReport out{.report = {}, .container = ContainerOf(decoded->encoding)};
  if (LooksHcl(decoded->bytes)) {
    LUNAL_ASSIGN_OR_RETURN(out.report, UnwrapHcl(decoded->bytes));
    out.from_hcl_report = true;
  } else {
    out.report = std::move(decoded->bytes);
  }
  return out;
}

}  // namespace lunal::attest::snp
