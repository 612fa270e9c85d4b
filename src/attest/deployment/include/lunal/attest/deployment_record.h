// A deployment's attestation record (DESIGN.md "Verification record"): what
// `GET /v1/deployments/{name}/attestation` returns and what `lunal attestation verify
// --deployment N` recomputes locally from the same evidence bundle
// (GET /v1/deployments/{name}/evidence), so the server and the client give one verdict.
//
// VerifyDeploymentRecord, in order (the first failure decides; stable reasons):
//   1. the evidence through the engine (vendor or simulation chain, collateral, TCB, event log
//      replay, policy)                                   the engine's reasons (tdx.*, …)
//   2. REPORT_DATA == ReportDataFor({SPKI of the certificate's key, nonce, build hash})
//                                                        deployment.binding.mismatch
//   3. the RTMR3 event log carries exactly one lunal.build-hash event equal to build_hash
//                                                        deployment.event_log.build_hash
//   4. the certificate is a mesh certificate for (tenant, deployment, instance, build hash)
//                                                        deployment.certificate.mismatch
//   5. a developer signature, when present: SSHSIG (namespace "lunal") over signed_message,
//      which must name build_hash; the key among allowed_signers when any are given
//                                                        deployment.signature.invalid,
//                                                        deployment.signature.wrong_hash,
//                                                        deployment.signature.unknown_signer
// A failure is a record {"status": "failed", "error": {code, reason, message}, "attestation":
// {what was established so far}}; never an exception.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lunal/attest/engine/verifier.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"

namespace lunal::attest {

struct DeveloperSignature {
  std::string signature = {};       // armored SSHSIG ("-----BEGIN SSH SIGNATURE-----")
  std::string signed_message = {};  // the signed bytes (hash.txt: "sha256:<hex>\n")
  // OpenSSH allowed_signers lines ("identity keytype base64") from the project's config; empty:
  // any key, developer_id is then the key's fingerprint.
  std::vector<std::string> allowed_signers = {};
};

// The bundle as the API serves it (JSON members as named here; evidence is the envelope).
struct DeploymentEvidence {
  std::string id = {};  // "att_<hex>": the attestation's id
  std::string tenant = {};
  std::string deployment_id = {};
  std::string instance_id = {};
  std::string build_hash = {};
  std::string nonce = {};
  std::string certificate_pem = {};  // the instance's mesh certificate (leaf first)
  Json evidence = nullptr;           // the Lunal evidence envelope, event log included
  std::string attested_at = {};      // RFC 3339
  std::optional<DeveloperSignature> signature = std::nullopt;
};
Json ToJson(const DeploymentEvidence& bundle);
Result<DeploymentEvidence> ParseDeploymentEvidence(const Json& json);  // deployment.bad_field

// The record: {"status": "verified"|"rejected"|"failed", "attestation": {id, timestamp,
// deployment_id, instance_id, build_hash, tee, measurements, report_data_binding, event_log,
// signature_verification (null without a signature), platform_verification, policy}}.
Json VerifyDeploymentRecord(const DeploymentEvidence& bundle,
                            const engine::EvidenceVerifier& verifier, Timestamp now);

}  // namespace lunal::attest
