// ParseHclReport / ParseHclTdReport / ParseRuntimeData: layer 1 and 2 of STYLE.md's parsing layers
// for the Azure HCL report (hcl_report.h gives the layout and its sources).
#include "lunal/attest/azure/hcl_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "lunal/common/byte_reader.h"
#include "lunal/common/encoding.h"

namespace lunal::attest::azure {
namespace {

Status CheckZero(ByteSpan bytes, std::size_t base, std::string_view field) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != 0) {
      return Malformed(fmt::format("{}.not_zero", field), "{}: byte at offset {} is {:#04x}", field,
                       base + i, bytes[i]);
    }
  }
  return Status();
}

Result<HclReportType> ReportTypeOf(std::uint32_t value) {
  switch (value) {
    case static_cast<std::uint32_t>(HclReportType::kSnp):
      return HclReportType::kSnp;
    case static_cast<std::uint32_t>(HclReportType::kTdx):
      return HclReportType::kTdx;
    default:
      return Unsupported("azure.hcl.report_type",
                         "runtime data report_type {} is not SNP (2) or TDX (4)", value);
  }
}

Result<HclHashType> HashTypeOf(std::uint32_t value) {
  switch (value) {
    case static_cast<std::uint32_t>(HclHashType::kSha256):
      return HclHashType::kSha256;
    case static_cast<std::uint32_t>(HclHashType::kSha384):
      return HclHashType::kSha384;
    case static_cast<std::uint32_t>(HclHashType::kSha512):
      return HclHashType::kSha512;
    default:
      return Unsupported("azure.hcl.hash_type",
                         "runtime data hash_type {} is not SHA-256 (1), SHA-384 (2) or SHA-512 (3)",
                         value);
  }
}

Result<RsaJwk> ParseRsaJwk(const Json& key, const std::string& path) {
  if (!key.is_object()) {
    return Malformed("azure.runtime.key", "{}: expected a JWK object, got {}", path,
                     JsonTypeName(key));
  }
  RsaJwk out;
  LUNAL_ASSIGN_OR_RETURN(out.kid, JsonString(key, "kid", path));
  LUNAL_ASSIGN_OR_RETURN(std::string kty, JsonString(key, "kty", path));
  if (kty != "RSA") {
    return Malformed("azure.runtime.key", "{}.kty: \"{}\", expected \"RSA\"", path, kty);
  }
  for (auto [member, out_bytes] : {std::pair{"n", &out.n}, std::pair{"e", &out.e}}) {
    LUNAL_ASSIGN_OR_RETURN(std::string text, JsonString(key, member, path));
    Result<Bytes> decoded = Base64UrlDecode(text);
    if (!decoded.ok() || decoded->empty()) {
      return Malformed("azure.runtime.key", "{}.{}: not base64url ({})", path, member,
                       decoded.ok() ? "empty" : decoded.error().message());
    }
    *out_bytes = std::move(*decoded);
  }
  return out;
}

}  // namespace

std::string_view HclReportTypeName(HclReportType type) {
  return type == HclReportType::kSnp ? "snp" : "tdx";
}

std::string_view HclHashTypeName(HclHashType type) {
  switch (type) {
    case HclHashType::kSha256:
      return "sha256";
    case HclHashType::kSha384:
      return "sha384";
    case HclHashType::kSha512:
      return "sha512";
  }
  return "unknown";
}

Result<HclReportView> ParseHclReport(ByteSpan bytes) {
  using namespace layout;  // NOLINT(google-build-using-namespace): the layout table's names
  ByteReader r(bytes);
  HclReportView out;
  LUNAL_ASSIGN_OR_RETURN(auto magic, Take<kMagic>(r, "azure.hcl.header"));
  if (AsStringView(magic) != kHclMagic) {
    return Malformed("azure.hcl.magic", "an HCL report starts with \"HCLA\", not {}",
                     HexEncode(magic));
  }
  LUNAL_ASSIGN_OR_RETURN(out.version, TakeU32<kVersion>(r, "azure.hcl.header"));
  LUNAL_ASSIGN_OR_RETURN(out.report_size, TakeU32<kReportSize>(r, "azure.hcl.header"));
  LUNAL_ASSIGN_OR_RETURN(out.request_type, TakeU32<kRequestType>(r, "azure.hcl.header"));
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t status, TakeU32<kStatus>(r, "azure.hcl.header"));
  if (status != 0) {
    return Malformed("azure.hcl.status", "the HCL reports failure status {:#x}", status);
  }
  LUNAL_ASSIGN_OR_RETURN(auto reserved, Take<kReserved>(r, "azure.hcl.header"));
  LUNAL_RETURN_IF_ERROR(CheckZero(reserved, kReserved.offset, "azure.hcl.reserved"));
  LUNAL_ASSIGN_OR_RETURN(auto hw, Take<kHwReport>(r, "azure.hcl.hw_report"));
  out.hw_report = hw;

  const std::size_t runtime_base = r.offset();
  LUNAL_ASSIGN_OR_RETURN(ByteReader rt, r.Sub(kRuntimeHeaderSize, "azure.hcl.runtime"));
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t data_size, TakeU32<kDataSize>(rt, "azure.hcl.runtime"));
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t version, TakeU32<kRuntimeVersion>(rt, "azure.hcl.runtime"));
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t type, TakeU32<kReportType>(rt, "azure.hcl.runtime"));
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t hash, TakeU32<kHashType>(rt, "azure.hcl.runtime"));
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t variable_size,
                         TakeU32<kVariableDataSize>(rt, "azure.hcl.runtime"));
  if (version != 1) {
    return Malformed("azure.hcl.runtime.version", "runtime data version {} (only 1 is defined)",
                     version);
  }
  LUNAL_ASSIGN_OR_RETURN(out.report_type, ReportTypeOf(type));
  LUNAL_ASSIGN_OR_RETURN(out.hash_type, HashTypeOf(hash));
  if (std::uint64_t{data_size} != std::uint64_t{kRuntimeHeaderSize} + variable_size) {
    return Malformed("azure.hcl.runtime.data_size",
                     "runtime data_size {} at offset {} is not the header ({}) plus the variable "
                     "data ({})",
                     data_size, runtime_base, kRuntimeHeaderSize, variable_size);
  }
  LUNAL_ASSIGN_OR_RETURN(out.runtime_data, r.Bytes(variable_size, "azure.hcl.runtime"));
  if (out.report_size != r.offset()) {
    return Malformed("azure.hcl.report_size",
                     "header report_size {} disagrees with the parts, which end at {}",
                     out.report_size, r.offset());
  }
  LUNAL_ASSIGN_OR_RETURN(ByteSpan padding, r.Bytes(r.remaining(), "azure.hcl.padding"));
  LUNAL_RETURN_IF_ERROR(CheckZero(padding, out.report_size, "azure.hcl.padding"));
  out.padding = padding.size();
  return out;
}

Result<tdx::TdReportView> ParseHclTdReport(ByteSpan hw_report) {
  if (hw_report.size() != layout::kHwReport.size) {
    return Malformed("azure.hcl.hw_report.truncated", "the hardware area is {} bytes, not {}",
                     hw_report.size(), layout::kHwReport.size);
  }
  LUNAL_RETURN_IF_ERROR(CheckZero(hw_report.subspan(tdx::tdreport::kSize),
                                  layout::kHwReport.offset + tdx::tdreport::kSize,
                                  "azure.hcl.tdreport.padding"));
  return tdx::ParseTdReport(hw_report.first(tdx::tdreport::kSize));
}

Result<RuntimeData> ParseRuntimeData(ByteSpan json) {
  Result<Json> parsed = ParseJson(AsStringView(json));
  if (!parsed.ok()) return parsed.error().WithContext("HCL runtime data: ");
  const Json& doc = *parsed;
  if (!doc.is_object()) {
    return Malformed("azure.runtime.not_object", "HCL runtime data is a JSON {}, not an object",
                     JsonTypeName(doc));
  }
  const auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) {
    return Malformed("azure.runtime.keys", "HCL runtime data: \"keys\" must be an array of JWKs");
  }
  RuntimeData out;
  std::set<std::string> kids;
  bool have_ak = false;
  for (std::size_t i = 0; i < keys->size(); ++i) {
    LUNAL_ASSIGN_OR_RETURN(RsaJwk key, ParseRsaJwk((*keys)[i], JsonPath("keys", i)));
    if (!kids.insert(key.kid).second) {
      return Malformed("azure.runtime.duplicate_kid", "keys[{}]: kid \"{}\" appears twice", i,
                       key.kid);
    }
    if (key.kid == "HCLAkPub") {
      out.attestation_key = std::move(key);
      have_ak = true;
    } else if (key.kid == "HCLEkPub") {
      out.endorsement_key = std::move(key);
    }
  }
  if (!have_ak) {
    return Malformed("azure.runtime.missing_ak",
                     "HCL runtime data has no \"HCLAkPub\" key: nothing can sign a vTPM quote");
  }
  if (const auto vm = doc.find("vm-configuration"); vm != doc.end()) {
    if (!vm->is_object()) {
      return Malformed("azure.runtime.vm_configuration", "\"vm-configuration\" must be an object");
    }
    out.vm_configuration = *vm;
  }
  if (const auto user = doc.find("user-data"); user != doc.end()) {
    if (!user->is_string()) {
      return Malformed("azure.runtime.user_data", "\"user-data\" must be a string");
    }
    out.user_data = user->get<std::string>();
  }
  return out;
}

}  // namespace lunal::attest::azure
