// The Lunal evidence envelope (DESIGN.md "Evidence envelope", docs/formats/evidence-envelope.md):
//   {"platform": "tdx"|"snp", "quote"|"report": base64, "cert_chain": {"vcek"|"vlek": base64 DER
//    or PEM}?, "event_log": base64?, "aux_blob": base64?, "nonce": hex?, "simulated": bool?}
// Strict: unknown members are refused (engine.envelope.unknown_field), "quote" goes with tdx and
// "report" with snp. Private to attest/engine.
#pragma once

#include <optional>
#include <string>

#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"

namespace lunal::attest::engine::internal {

struct Envelope {
  std::string platform;                              // "tdx" or "snp"
  Bytes evidence;                                    // the quote or report
  std::optional<Bytes> signing_cert = std::nullopt;  // cert_chain.vcek / cert_chain.vlek
  std::optional<Bytes> event_log = std::nullopt;
  std::optional<Bytes> nonce = std::nullopt;  // informational: the binding is the caller's
};

// True when `doc` has the envelope's shape ("platform" beside "quote" or "report", and no
// "evidence" member, which is attestation-rs's shape).
bool LooksLikeEnvelope(const Json& doc);

Result<Envelope> DecodeEnvelope(const Json& doc);

}  // namespace lunal::attest::engine::internal
