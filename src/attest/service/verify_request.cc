#include "verify_request.h"

#include <algorithm>
#include <array>

#include "lunal/attest/policy/policy.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "lunal/common/time.h"

namespace lunal::attest::service::internal {
namespace {

constexpr std::array<std::string_view, 8> kVerifyMembers = {
    "evidence", "expected_report_data", "nonce", "policy", "issue_token", "at", "certs",
    "event_log"};
constexpr std::size_t kMaxNonceBytes = 64;

// The body must be one JSON object with only `known` members.
Result<Json> ParseObject(std::string_view body, std::span<const std::string_view> known) {
  LUNAL_ASSIGN_OR_RETURN(Json doc, ParseJson(body, {.max_depth = 64}));
  if (!doc.is_object()) {
    return Malformed("attest.request.not_object", "the request body must be a JSON object, got {}",
                     JsonTypeName(doc));
  }
  for (const auto& [key, value] : doc.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string names;
      for (std::string_view k : known) names += (names.empty() ? "" : ", ") + std::string(k);
      return InvalidArgument("attest.request.unknown_field",
                             "unknown member \"{}\" (the request takes {})", key, names);
    }
  }
  return doc;
}

Status WrongType(std::string_view member, std::string_view want, const Json& got) {
  return InvalidArgument("attest.request.wrong_type", "{}: expected {}, got {}", member, want,
                         JsonTypeName(got));
}

// Standard base64 (RFC 4648 §4), padding optional, whitespace (line breaks of `base64`) ignored.
Result<Bytes> DecodeBase64Member(std::string_view member, const Json& value) {
  if (!value.is_string()) return WrongType(member, "a base64 string", value);
  const std::string& text = value.get_ref<const std::string&>();
  Base64DecodeOptions options{.alphabet = Base64Alphabet::kStandard,
                              .padding = Base64DecodeOptions::Padding::kOptional,
                              .ignore_whitespace = false};
  // Most clients send one line; the whitespace-skipping decoder is slower, so it runs only when
  // the strict one fails (line breaks as `base64` writes them).
  auto bytes = Base64Decode(text, options);
  if (!bytes.ok()) {
    options.ignore_whitespace = true;
    bytes = Base64Decode(text, options);
  }
  if (!bytes.ok()) {
    return InvalidArgument("attest.request.bad_base64", "{}: not base64: {}", member,
                           bytes.error().message());
  }
  return std::move(*bytes);
}

Status TooLarge(std::string_view reason, std::string_view member, std::size_t size,
                std::size_t limit) {
  return ResourceExhausted(std::string(reason), "{}: {} bytes, more than the service's limit of {}",
                           member, size, limit);
}

Result<Bytes> DecodeEvidence(const Json& value, const ServiceLimits& limits) {
  Bytes evidence;
  if (value.is_object()) {
    // The Lunal envelope (or another JSON container): the engine decodes the JSON itself.
    const std::string text = value.dump();
    evidence = ToBytes(text);
  } else if (value.is_string()) {
    // Base64 of the bytes of any evidence file the CLI reads; a quick size check first, so a
    // huge string is refused before it is decoded.
    const std::size_t encoded = value.get_ref<const std::string&>().size();
    if (encoded / 4 * 3 > limits.max_evidence_bytes + 3) {
      return TooLarge("attest.request.evidence_too_large", "evidence", encoded / 4 * 3,
                      limits.max_evidence_bytes);
    }
    LUNAL_ASSIGN_OR_RETURN(evidence, DecodeBase64Member("evidence", value));
  } else {
    return WrongType("evidence", "an evidence envelope object or a base64 string", value);
  }
  if (evidence.empty()) {
    return InvalidArgument("attest.request.empty_evidence", "evidence: empty");
  }
  if (evidence.size() > limits.max_evidence_bytes) {
    return TooLarge("attest.request.evidence_too_large", "evidence", evidence.size(),
                    limits.max_evidence_bytes);
  }
  return evidence;
}

Result<Bytes> DecodeHexMember(std::string_view member, const Json& value, std::string_view reason) {
  if (!value.is_string()) return WrongType(member, "a hex string", value);
  auto bytes = HexDecode(value.get_ref<const std::string&>());
  if (!bytes.ok()) {
    return InvalidArgument(std::string(reason), "{}: not hex: {}", member, bytes.error().message());
  }
  return std::move(*bytes);
}

Result<std::array<std::uint8_t, 64>> ReportData(std::string_view member, const Json& value) {
  LUNAL_ASSIGN_OR_RETURN(Bytes bytes,
                         DecodeHexMember(member, value, "attest.request.bad_report_data"));
  if (bytes.size() != 64) {
    return InvalidArgument("attest.request.bad_report_data",
                           "{}: REPORT_DATA is 64 bytes (128 hex digits), got {} bytes", member,
                           bytes.size());
  }
  std::array<std::uint8_t, 64> out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

Result<policy::Policy> DecodePolicy(const Json& value) {
  if (value.is_object()) return policy::ParsePolicy(value.dump(), "request.policy");
  if (value.is_string()) {
    return policy::ParsePolicy(value.get_ref<const std::string&>(), "request.policy");
  }
  return WrongType("policy", "a policy object or its YAML/JSON text", value);
}

// Fills `call` from one member of the body.
Status DecodeMember(std::string_view key, const Json& value, const ServiceLimits& limits,
                    bool allow_request_time, VerifyCall& call) {
  engine::VerifyRequest& r = call.request;
  if (key == "evidence") {
    LUNAL_ASSIGN_OR_RETURN(r.evidence, DecodeEvidence(value, limits));
  } else if (key == "expected_report_data") {
    LUNAL_ASSIGN_OR_RETURN(auto data, ReportData(key, value));
    r.expected_report_data = Bytes(data.begin(), data.end());
  } else if (key == "nonce") {
    LUNAL_ASSIGN_OR_RETURN(Bytes nonce, DecodeHexMember(key, value, "attest.request.bad_nonce"));
    if (nonce.empty() || nonce.size() > kMaxNonceBytes) {
      return InvalidArgument("attest.request.bad_nonce", "nonce: 1 to {} bytes, got {}",
                             kMaxNonceBytes, nonce.size());
    }
    call.nonce_hex = HexEncode(nonce);
    r.nonce = std::move(nonce);
  } else if (key == "policy") {
    LUNAL_ASSIGN_OR_RETURN(r.policy, DecodePolicy(value));
  } else if (key == "issue_token") {
    if (!value.is_boolean()) return WrongType(key, "a boolean", value);
    call.issue_token = value.get<bool>();
  } else if (key == "at") {
    if (!allow_request_time) {
      return InvalidArgument("attest.request.at_not_allowed",
                             "at: this service verifies as of its own clock; a request may not "
                             "choose the time (the operator can allow it: "
                             "verify.allow_request_time)");
    }
    if (!value.is_string()) return WrongType(key, "an RFC 3339 time", value);
    auto at = ParseRfc3339(value.get_ref<const std::string&>());
    if (!at.ok()) return std::move(at).error().WithContext("at");
    r.as_of = *at;
  } else if (key == "certs") {
    if (!value.is_array()) return WrongType(key, "an array of base64 certificates", value);
    if (value.size() > limits.max_certs) {
      return InvalidArgument("attest.request.too_many_certs", "certs: at most {}, got {}",
                             limits.max_certs, value.size());
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
      LUNAL_ASSIGN_OR_RETURN(Bytes cert, DecodeBase64Member(JsonPath("certs", i), value[i]));
      if (cert.size() > limits.max_evidence_bytes) {
        return TooLarge("attest.request.evidence_too_large", JsonPath("certs", i), cert.size(),
                        limits.max_evidence_bytes);
      }
      r.certs.push_back(std::move(cert));
    }
  } else if (key == "event_log") {
    LUNAL_ASSIGN_OR_RETURN(Bytes log, DecodeBase64Member(key, value));
    if (log.size() > limits.max_event_log_bytes) {
      return TooLarge("attest.request.event_log_too_large", key, log.size(),
                      limits.max_event_log_bytes);
    }
    r.event_log = std::move(log);
  }
  return Status();
}

}  // namespace

Result<VerifyCall> DecodeVerifyBody(std::string_view body, const ServiceLimits& limits,
                                    bool allow_request_time) {
  LUNAL_ASSIGN_OR_RETURN(Json doc, ParseObject(body, kVerifyMembers));
  if (!doc.contains("evidence")) {
    return InvalidArgument("attest.request.missing_evidence",
                           "the request has no \"evidence\" (an evidence envelope object, or "
                           "base64 of an evidence file)");
  }
  VerifyCall call;
  for (const auto& [key, value] : doc.items()) {
    if (value.is_null()) continue;  // an absent optional member
    LUNAL_RETURN_IF_ERROR(DecodeMember(key, value, limits, allow_request_time, call));
  }
  if (call.request.evidence.empty()) {
    return InvalidArgument("attest.request.missing_evidence", "evidence: null");
  }
  return call;
}

Result<VerifyCall> DecodeVerifyRaw(std::string_view body,
                                   const std::map<std::string, std::string, std::less<>>& query,
                                   const ServiceLimits& limits, bool allow_request_time) {
  static constexpr std::array<std::string_view, 4> kParameters = {"expected_report_data", "nonce",
                                                                  "issue_token", "at"};
  VerifyCall call;
  for (const auto& [name, value] : query) {
    if (std::find(kParameters.begin(), kParameters.end(), name) == kParameters.end()) {
      return InvalidArgument("attest.request.unknown_field",
                             "unknown query parameter \"{}\" (an octet-stream request takes "
                             "expected_report_data, nonce, issue_token and at; policy, certs and "
                             "event_log need the JSON form)",
                             name);
    }
    Json json_value = value;
    if (name == "issue_token") {
      if (value != "true" && value != "false") {
        return InvalidArgument("attest.request.wrong_type", "issue_token: expected true or false");
      }
      json_value = value == "true";
    }
    LUNAL_RETURN_IF_ERROR(DecodeMember(name, json_value, limits, allow_request_time, call));
  }
  if (body.empty()) return InvalidArgument("attest.request.empty_evidence", "evidence: empty");
  if (body.size() > limits.max_evidence_bytes) {
    return TooLarge("attest.request.evidence_too_large", "evidence", body.size(),
                    limits.max_evidence_bytes);
  }
  call.request.evidence = Bytes(body.begin(), body.end());
  return call;
}

bool IsOctetStream(std::optional<std::string_view> content_type) {
  if (!content_type) return false;
  std::string_view type = content_type->substr(0, content_type->find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  constexpr std::string_view kOctetStream = "application/octet-stream";
  if (type.size() != kOctetStream.size()) return false;
  for (std::size_t i = 0; i < type.size(); ++i) {
    const char c =
        type[i] >= 'A' && type[i] <= 'Z' ? static_cast<char>(type[i] - 'A' + 'a') : type[i];
    if (c != kOctetStream[i]) return false;
  }
  return true;
}

Result<std::array<std::uint8_t, 64>> DecodeAttestBody(std::string_view body) {
  static constexpr std::array<std::string_view, 1> kMembers = {"report_data"};
  LUNAL_ASSIGN_OR_RETURN(Json doc, ParseObject(body, kMembers));
  if (!doc.contains("report_data")) {
    return InvalidArgument("attest.request.bad_report_data",
                           "the request needs \"report_data\": 128 hex digits");
  }
  return ReportData("report_data", doc["report_data"]);
}

}  // namespace lunal::attest::service::internal
