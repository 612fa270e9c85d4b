#include "envelope.h"

#include <array>
#include <string_view>

#include "lunal/attest/evidence_text.h"
#include "lunal/common/encoding.h"

namespace lunal::attest::engine::internal {
namespace {

constexpr std::array<std::string_view, 8> kMembers = {
    "platform", "quote", "report", "cert_chain", "event_log", "aux_blob", "nonce", "simulated"};

}  // namespace

bool LooksLikeEnvelope(const Json& doc) {
  return doc.is_object() && doc.contains("platform") && !doc.contains("evidence") &&
         (doc.contains("quote") || doc.contains("report"));
}

Result<Envelope> DecodeEnvelope(const Json& doc) {
  for (const auto& [key, value] : doc.items()) {
    if (std::find(kMembers.begin(), kMembers.end(), key) == kMembers.end()) {
      return Malformed("engine.envelope.unknown_field",
                       "evidence envelope: unknown member \"{}\" (expected platform, quote|report, "
                       "cert_chain, event_log, aux_blob, nonce, simulated)",
                       key);
    }
  }
  Envelope out;
  LUNAL_ASSIGN_OR_RETURN(out.platform, JsonString(doc, "platform"));
  const std::string_view member = out.platform == "tdx"   ? "quote"
                                  : out.platform == "snp" ? "report"
                                                          : "";
  if (member.empty()) {
    return Unsupported("engine.envelope.platform",
                       "evidence envelope: platform \"{}\" is not \"tdx\" or \"snp\"",
                       out.platform);
  }
  if (!doc.contains(member)) {
    return Malformed("engine.envelope.missing_evidence",
                     "evidence envelope: platform \"{}\" carries its evidence in \"{}\"",
                     out.platform, member);
  }
  LUNAL_ASSIGN_OR_RETURN(out.evidence, JsonBytesMember(doc, member, "", "engine"));
  if (const auto chain = doc.find("cert_chain"); chain != doc.end() && !chain->is_null()) {
    if (!chain->is_object()) {
      return Malformed("json.wrong_type", "cert_chain: expected an object");
    }
    for (std::string_view key : {"vcek", "vlek"}) {
      if (chain->contains(key)) {
        LUNAL_ASSIGN_OR_RETURN(
            out.signing_cert, JsonBytesMember(*chain, key, "cert_chain", "engine", PemText::kKeep));
      }
    }
  }
  if (doc.contains("event_log") && !doc["event_log"].is_null()) {
    LUNAL_ASSIGN_OR_RETURN(out.event_log, JsonBytesMember(doc, "event_log", "", "engine"));
  }
  if (doc.contains("nonce") && !doc["nonce"].is_null()) {
    LUNAL_ASSIGN_OR_RETURN(std::string hex, JsonString(doc, "nonce"));
    Result<Bytes> nonce = HexDecode(hex);
    if (!nonce.ok()) return nonce.error().WithContext("nonce: ");
    out.nonce = std::move(*nonce);
  }
  return out;
}

}  // namespace lunal::attest::engine::internal
