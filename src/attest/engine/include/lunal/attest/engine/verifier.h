// The evidence verifier every component calls (DESIGN.md layer "attestation"): evidence in any
// container the platform reads → the verification record, appraised against a policy.
//
// One interface, two implementations: LocalVerifier (in-process: the TDX, SNP and Azure
// verifiers over a CollateralSource) and a remote one that asks an attestation service over
// HTTP (src/attest/service). The CLI, the service and the CDS all use this, so one evidence file
// gets one verdict everywhere.
//
// What Verify does, in order:
//   1. decode the container: the Lunal envelope {"platform": "tdx"|"snp", "quote"|"report",
//      "cert_chain", "event_log", "nonce"} (DESIGN.md), Azure vTPM evidence, then TDX quote and
//      SNP report containers (the first that parses decides the TEE);
//   2. gather collateral from the source (TDX: by the quote's FMSPC and CA; SNP: the VCEK when
//      neither the evidence nor the request carries one, and AMD's CRLs);
//   3. verify with the TEE's verifier as of `as_of`; replay the event log (TDX) when given;
//   4. appraise against the request's policy, or policy::DefaultPolicy() when none is given.
//
// Result errors are the request's fault (400 in the service, exit 2 in the CLI): evidence that is
// no container we read (attestation.evidence_unrecognized), flags that do not apply to the TEE
// (attestation.option_not_applicable), malformed options. A verification that runs and fails is
// a VerifyResponse with status kFailed and the failing step's stable reason.
//
// Thread-safety: Verify may be called from many threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lunal/attest/collateral/source.h"
#include "lunal/attest/policy/appraise.h"
#include "lunal/attest/policy/policy.h"
#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/common/time.h"
#include "lunal/crypto/chain.h"

namespace lunal::attest::engine {

struct VerifyRequest {
  Bytes evidence;                                 // the file or envelope bytes, as received
  std::optional<Timestamp> as_of = std::nullopt;  // default: the verifier's clock
  std::vector<Bytes> certs = {};                  // SNP: VCEK/VLEK (DER or PEM) the evidence lacks
  std::optional<Bytes> event_log = std::nullopt;  // TDX: CCEL / TCG2 log (raw, hex or base64)
  std::optional<Bytes> expected_report_data = std::nullopt;  // 64 bytes, exact (TDX, SNP)
  std::optional<Bytes> nonce = std::nullopt;                 // Azure: the vTPM quote's extraData
  std::optional<policy::Policy> policy = std::nullopt;       // default: policy::DefaultPolicy()
};

enum class Verdict {
  kVerified,  // every check passed and the policy accepts the claims
  kRejected,  // every check passed; the policy does not accept the claims
  kFailed,    // a check failed (signature, chain, collateral, binding, ...)
};
std::string_view VerdictName(Verdict verdict);  // "verified", "rejected", "failed"

struct VerifyResponse {
  Verdict verdict = Verdict::kFailed;
  Status error = Status();  // kFailed: the failing step's status (stable reason)
  // {"status": "verified"|"rejected"|"failed", "attestation": {...}} (DESIGN.md "Verification
  // record"; for kFailed: {"status": "failed", "error": {"code", "reason", "message"}}).
  Json record = Json::object();
  // What a result token carries (docs/formats/result-token.md, claim "lunal"): tee type,
  // simulated, measurements, tcb_status, advisory_ids, build_hash, policy result. Empty on
  // kFailed.
  Json essentials = Json::object();
  std::string tee;        // "tdx", "snp" (also for Azure evidence); empty if undecoded
  std::string container;  // the container name the evidence came in
};

class EvidenceVerifier {
 public:
  virtual ~EvidenceVerifier() = default;
  virtual Result<VerifyResponse> Verify(const VerifyRequest& request) const = 0;
};

struct LocalVerifierOptions {
  std::shared_ptr<collateral::CollateralSource> collateral;  // required for TDX
  // sim-tdx roots trusted explicitly (results say simulated: true; DESIGN.md "The simulated
  // TEE"). Empty: simulated quotes fail as untrusted.
  std::vector<crypto::TrustAnchor> simulated_anchors = {};
  const Clock* clock = nullptr;  // default: SystemClock
};

// The in-process verifier. Holds the TDX and SNP verifiers (and their warm caches) for its
// lifetime; one instance should serve every request.
std::unique_ptr<EvidenceVerifier> MakeLocalVerifier(LocalVerifierOptions options);

}  // namespace lunal::attest::engine
