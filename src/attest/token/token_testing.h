// Test helpers for tokens: splitting and re-assembling compact JWS, and sample "lunal" claims.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/encoding.h"
#include "lunal/common/json.h"

namespace lunal::attest::token::testing {

// The '.'-separated parts of a compact token.
inline std::vector<std::string> Parts(std::string_view token) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = token.find('.', start);
    out.emplace_back(token.substr(start, dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}
inline std::string Part(std::string_view token, int index) {
  return Parts(token).at(static_cast<std::size_t>(index));
}

// base64url(header JSON) "." base64url(payload JSON) "." signature (already base64url).
inline std::string Join(std::string_view header_json, std::string_view payload_json,
                        std::string_view signature_b64) {
  return Base64UrlEncode(AsBytes(header_json)) + "." + Base64UrlEncode(AsBytes(payload_json)) +
         "." + std::string(signature_b64);
}

// What the attestation service puts in "lunal": the verification record's essentials.
inline Json SampleLunalClaims() {
  return Json{
      {"tee", {{"type", "tdx"}, {"simulated", false}}},
      {"measurements", {{"mr_td", std::string(96, 'a')}, {"rtmr3", std::string(96, 'b')}}},
      {"tcb_status", "OutOfDate"},
      {"advisory_ids", {"INTEL-SA-00837", "INTEL-SA-00960"}},
      {"build_hash", "sha256:" + std::string(64, 'c')},
      {"policy", {{"result", "pass"}, {"violations", Json::array()}}},
  };
}

}  // namespace lunal::attest::token::testing
