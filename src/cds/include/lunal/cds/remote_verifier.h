// An EvidenceVerifier that asks a remote attestation service (`lunald attestation`,
// docs/protocols/attestation-service.md) instead of verifying in process: POST
// /v1/attestation/verify with the evidence and the request's policy, and the verification record
// back. The CDS then runs the same appraisal over it as over the in-process engine's result.
//
// The response's `essentials` are rebuilt from the record (the fields a result token carries:
// tee, simulated, debug, measurements, report_data, tcb_status, advisory_ids, build_hash; TDX
// from measurements / td_attributes / event_log, SNP from measurements / policy / host_data).
//
// Errors of Verify: the service's own error for a request it refused (its code and reason, via
// net::StatusFromErrorBody), net.* transport errors (kUnavailable, kDeadlineExceeded), and
// cds.remote.bad_response (kUnavailable) for a 200 that is not a verification record. A
// verification that ran and failed is a VerifyResponse with Verdict::kFailed and the service's
// reason, as in process.
//
// Thread-safety: Verify may be called from many threads (one HTTP client per call).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "lunal/attest/engine/verifier.h"
#include "lunal/common/json.h"

namespace lunal::cds {

struct RemoteVerifierOptions {
  std::string base_url = {};  // "https://attest.example.com" (no trailing path)
  std::string token = {};     // bearer token; empty: none sent
  std::optional<std::string> ca_pem = std::nullopt;  // TLS trust for https; default: system CAs
  std::chrono::milliseconds timeout{30'000};
};

std::unique_ptr<attest::engine::EvidenceVerifier> MakeRemoteVerifier(RemoteVerifierOptions options);

// The essentials of a verification record ({"status", "attestation": {...}}), as
// VerifyResponse::essentials holds them. Exposed for tests.
Json EssentialsFromRecord(const Json& record);

}  // namespace lunal::cds
