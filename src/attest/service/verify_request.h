// Decoding of the POST /v1/attestation/verify body into an engine::VerifyRequest, and of the
// POST /v1/attestation/attest body (docs/protocols/attestation-service.md). Strict: unknown
// members are refused, every member is type- and size-checked. Private to attest/service.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "lunal/attest/engine/verifier.h"
#include "lunal/attest/service/service.h"
#include "lunal/common/result.h"

namespace lunal::attest::service::internal {

struct VerifyCall {
  engine::VerifyRequest request;
  bool issue_token = false;
  std::optional<std::string> nonce_hex;  // as given (lowercased), for the token's "nonce" claim
};

// Errors (stable reasons; kInvalidArgument / kMalformed → 400, kResourceExhausted → 413):
//   json.syntax, json.duplicate_key, json.too_deep   the body is not one JSON document
//   attest.request.not_object        the body is not a JSON object
//   attest.request.unknown_field     a member not in the schema
//   attest.request.missing_evidence  no "evidence"
//   attest.request.wrong_type        a member of the wrong JSON type
//   attest.request.bad_base64        evidence / certs / event_log is not base64
//   attest.request.empty_evidence    evidence decodes to nothing
//   attest.request.evidence_too_large, attest.request.event_log_too_large (kResourceExhausted)
//   attest.request.too_many_certs
//   attest.request.bad_report_data   expected_report_data not 128 hex digits
//   attest.request.bad_nonce         nonce not hex, or longer than 64 bytes
//   attest.request.at_not_allowed    "at" given and the service does not allow it
//   time.rfc3339.*                   "at" is not an RFC 3339 time
//   policy.*                         the policy's own errors (with request.policy:line:column)
Result<VerifyCall> DecodeVerifyBody(std::string_view body, const ServiceLimits& limits,
                                    bool allow_request_time);

// POST /v1/attestation/verify with "Content-Type: application/octet-stream": the body is the
// evidence file itself (any container the CLI reads), the options are query parameters
// (expected_report_data, nonce, issue_token=true|false, at). No policy, certs or event log in
// this form (the JSON form carries them). Errors: as DecodeVerifyBody, and
// attest.request.unknown_field for an unknown parameter.
Result<VerifyCall> DecodeVerifyRaw(std::string_view body,
                                   const std::map<std::string, std::string, std::less<>>& query,
                                   const ServiceLimits& limits, bool allow_request_time);

// True when the Content-Type names application/octet-stream (parameters ignored, case-insensitive).
bool IsOctetStream(std::optional<std::string_view> content_type);

// {"report_data": 128 hex digits}. Errors: the JSON ones, attest.request.not_object,
// attest.request.unknown_field, attest.request.bad_report_data.
Result<std::array<std::uint8_t, 64>> DecodeAttestBody(std::string_view body);

}  // namespace lunal::attest::service::internal
