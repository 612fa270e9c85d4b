// DecodeAzureEvidence: the Azure vTPM containers of evidence_input.h.
#include "lunal/attest/azure/evidence_input.h"

#include <fmt/format.h>

#include <string>

#include "lunal/attest/evidence_text.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"

namespace lunal::attest::azure {
namespace {

constexpr std::string_view kPlatform = "azure";

Status NotAzure(std::string_view why) {
  return Unsupported("azure.container.not_azure", "not Azure vTPM evidence: {}", why);
}

Result<Bytes> Member(const Json& object, std::string_view key, std::string_view path,
                     PemText pem = PemText::kDecode) {
  return JsonBytesMember(object, key, path, kPlatform, pem);
}

// One PCR value: a hex string or an array of byte values.
Result<Bytes> PcrValue(const Json& value, const std::string& path) {
  if (value.is_array()) return JsonByteArray(value, path, kPlatform);
  if (!value.is_string()) {
    return Malformed("azure.container.pcrs", "{}: expected a hex string or an array of bytes",
                     path);
  }
  Result<Bytes> bytes = HexDecode(value.get_ref<const std::string&>());
  if (!bytes.ok()) return bytes.error().WithContext(path + ": ");
  return bytes;
}

Result<TpmQuoteParts> TpmQuote(const Json& object, std::string_view key, std::string_view path) {
  const std::string quote_path = JsonPath(path, key);
  LUNAL_ASSIGN_OR_RETURN(const Json* quote, JsonObject(object, key, path));
  TpmQuoteParts out;
  LUNAL_ASSIGN_OR_RETURN(out.message, Member(*quote, "message", quote_path));
  LUNAL_ASSIGN_OR_RETURN(out.signature, Member(*quote, "signature", quote_path));
  LUNAL_ASSIGN_OR_RETURN(const Json* pcrs, JsonArray(*quote, "pcrs", quote_path));
  const std::string pcrs_path = JsonPath(quote_path, "pcrs");
  for (std::size_t i = 0; i < pcrs->size(); ++i) {
    LUNAL_ASSIGN_OR_RETURN(Bytes value, PcrValue((*pcrs)[i], JsonPath(pcrs_path, i)));
    out.pcrs.push_back(std::move(value));
  }
  return out;
}

// The members shared by every JSON shape, under `object` at `path`.
Result<AzureEvidence> Parts(const Json& object, std::string_view path, Container container,
                            HclReportType tee, std::string_view quote_key,
                            std::string_view report_key) {
  AzureEvidence out{.container = container, .tee = tee};
  LUNAL_ASSIGN_OR_RETURN(out.tpm_quote, TpmQuote(object, quote_key, path));
  LUNAL_ASSIGN_OR_RETURN(out.hcl_report, Member(object, report_key, path));
  if (tee == HclReportType::kSnp) {
    LUNAL_ASSIGN_OR_RETURN(out.vcek, Member(object, "vcek", path, PemText::kKeep));
  } else {
    LUNAL_ASSIGN_OR_RETURN(out.td_quote, Member(object, "td_quote", path));
  }
  return out;
}

Result<AzureEvidence> AttestationRs(const Json& doc) {
  LUNAL_ASSIGN_OR_RETURN(std::string platform, JsonString(doc, "platform"));
  if (platform != "az-snp" && platform != "az-tdx") {
    return NotAzure(fmt::format("platform \"{}\"", platform));
  }
  LUNAL_ASSIGN_OR_RETURN(const Json* evidence, JsonObject(doc, "evidence"));
  const bool snp = platform == "az-snp";
  return Parts(*evidence, "evidence",
               snp ? Container::kAttestationRsAzSnp : Container::kAttestationRsAzTdx,
               snp ? HclReportType::kSnp : HclReportType::kTdx, "tpm_quote", "hcl_report");
}

Result<AzureEvidence> DecodeJson(std::string_view text) {
  Result<Json> parsed = ParseJson(text);
  if (!parsed.ok()) return NotAzure("not JSON");  // the plain decoders report JSON errors
  const Json& doc = *parsed;
  if (!doc.is_object()) return NotAzure("not a JSON object");
  if (doc.contains("platform")) return AttestationRs(doc);
  const std::string_view quote_key = doc.contains("tpm_quote") ? "tpm_quote" : "quote";
  const std::string_view report_key = doc.contains("hcl_report") ? "hcl_report" : "report";
  const auto quote = doc.find(quote_key);
  if (quote == doc.end() || !quote->is_object() || !doc.contains(report_key)) {
    return NotAzure("no vTPM quote object beside an HCL report");
  }
  if (doc.contains("td_quote")) {
    return Parts(doc, "", Container::kTrusteeAzTdxVtpm, HclReportType::kTdx, quote_key, report_key);
  }
  return Parts(doc, "", Container::kTrusteeAzSnpVtpm, HclReportType::kSnp, quote_key, report_key);
}

}  // namespace

std::string_view ContainerName(Container container) {
  switch (container) {
    case Container::kHclReport:
      return "hcl-report";
    case Container::kAttestationRsAzSnp:
      return "attestation-rs-az-snp";
    case Container::kAttestationRsAzTdx:
      return "attestation-rs-az-tdx";
    case Container::kTrusteeAzSnpVtpm:
      return "azure-snp-vtpm";
    case Container::kTrusteeAzTdxVtpm:
      return "azure-tdx-vtpm";
  }
  return "unknown";
}

Result<AzureEvidence> DecodeAzureEvidence(ByteSpan file_bytes) {
  const std::string_view text = AsStringView(file_bytes);
  if (text.starts_with(layout::kHclMagic)) {
    LUNAL_ASSIGN_OR_RETURN(HclReportView view, ParseHclReport(file_bytes));
    return AzureEvidence{.container = Container::kHclReport,
                         .tee = view.report_type,
                         .hcl_report = Bytes(file_bytes.begin(), file_bytes.end())};
  }
  const std::string_view trimmed = TrimAsciiSpace(text);
  if (!IsText(text) || !trimmed.starts_with("{")) return NotAzure("neither an HCL report nor JSON");
  return DecodeJson(trimmed);
}

}  // namespace lunal::attest::azure
