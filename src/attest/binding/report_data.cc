#include "lunal/attest/report_data.h"

#include <algorithm>

#include "lunal/common/encoding.h"
#include "lunal/common/status.h"
#include "lunal/crypto/digest.h"

namespace lunal::attest {

Result<Bytes> ReportDataPreimage(std::string_view purpose, const Json& payload) {
  if (purpose.empty() || purpose.find('\0') != std::string_view::npos) {
    return InvalidArgument("binding.bad_purpose",
                           "REPORT_DATA purpose must be non-empty text without NUL bytes");
  }
  if (!payload.is_object()) {
    return InvalidArgument("binding.bad_payload", "REPORT_DATA payload must be a JSON object");
  }
  Result<std::string> canonical = CanonicalJson(payload);
  if (!canonical.ok()) {
    return InvalidArgument("binding.bad_payload", "REPORT_DATA payload: {}",
                           canonical.status().message());
  }
  Bytes out;
  out.reserve(kReportDataDomain.size() + purpose.size() + canonical->size() + 2);
  out.insert(out.end(), kReportDataDomain.begin(), kReportDataDomain.end());
  out.push_back(0);
  out.insert(out.end(), purpose.begin(), purpose.end());
  out.push_back(0);
  out.insert(out.end(), canonical->begin(), canonical->end());
  return out;
}

Result<ReportData> ComputeReportData(std::string_view purpose, const Json& payload) {
  LUNAL_ASSIGN_OR_RETURN(Bytes preimage, ReportDataPreimage(purpose, payload));
  return crypto::Sha512(preimage);
}

std::string KeyDigest(ByteSpan spki_der) { return "sha256:" + HexEncode(crypto::Sha256(spki_der)); }

bool IsSha256Ref(std::string_view s) {
  constexpr std::string_view kPrefix = "sha256:";
  if (s.size() != kPrefix.size() + 64 || !s.starts_with(kPrefix)) return false;
  return std::all_of(s.begin() + kPrefix.size(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<Json> InstancePayload(const InstanceBinding& b) {
  if (b.key_spki_der.empty()) {
    return InvalidArgument("binding.empty_key", "instance binding needs the instance key's SPKI");
  }
  Json payload = Json::object();
  payload["key"] = KeyDigest(b.key_spki_der);
  payload["nonce"] = b.nonce;
  if (!b.build_hash.empty()) {
    if (!IsSha256Ref(b.build_hash)) {
      return InvalidArgument(
          "binding.bad_build_hash",
          "build hash must be \"sha256:\" and 64 lowercase hex digits, got \"{}\"", b.build_hash);
    }
    payload["build_hash"] = b.build_hash;
  }
  return payload;
}

Result<ReportData> ReportDataFor(const InstanceBinding& b) {
  LUNAL_ASSIGN_OR_RETURN(Json payload, InstancePayload(b));
  return ComputeReportData(kPurposeInstance, payload);
}

Result<ReportData> BuilderReportData(ByteSpan builder_spki_der) {
  if (builder_spki_der.empty()) {
    return InvalidArgument("binding.empty_key", "build binding needs the builder key's SPKI");
  }
  Json payload = Json::object();
  payload["builder_key"] = KeyDigest(builder_spki_der);
  return ComputeReportData(kPurposeBuild, payload);
}

}  // namespace lunal::attest
