// The attestation service (DESIGN.md "Components", role `lunald attestation`): an HTTP JSON API
// over the evidence verifier, the local attester, the collateral source and the result-token
// issuer. docs/protocols/attestation-service.md describes the protocol, docs/api/openapi.yaml the
// schemas, src/attest/service/README.md the security posture.
//
//   POST /v1/attestation/verify      evidence (+ options) → the verification record (+ token)
//   POST /v1/attestation/attest      REPORT_DATA → evidence from the local attester (an envelope)
//   GET  /v1/attestation/jwks        the result-token keys (also /.well-known/jwks.json)
//   GET  /v1/attestation/collateral  what the collateral source holds, valid until when
//   GET  /healthz                    liveness (never authenticated)
//   GET  /metrics                    Prometheus text exposition
//
//   LUNAL_ASSIGN_OR_RETURN(auto service, AttestationService::Create(std::move(options)));
//   LUNAL_RETURN_IF_ERROR(service->Start({.bind_address = "127.0.0.1", .port = 0}));
//   fmt::print("{}\n", service->url());
//   ...
//   service->Stop(std::chrono::seconds(5));
//
// Every error is net::ErrorResponse's {"error": {"code", "reason", "message"}} (errors.h is the
// one Status → HTTP mapping). A verification that runs and fails is NOT an HTTP error: it is a 200
// with the record's "status": "failed" and the failing step's stable reason. Request problems
// (malformed JSON, unknown members, evidence in no container we read, wrong sizes) are 400s;
// bodies over ServiceLimits::max_body_bytes and evidence over max_evidence_bytes are 413s.
//
// Errors of Create (kInvalidArgument): attest.service.options (no verifier, a limit of zero),
// attest.service.no_auth (no token digests and auth not explicitly disabled).
//
// Thread-safety: handlers run on the server's I/O threads concurrently; every collaborator in
// ServiceOptions must be thread-safe (EvidenceVerifier, CollateralSource, Attester and Issuer are,
// by their contracts). Create/Start/Stop and the destructor are called from one owning thread.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lunal/attest/attester.h"
#include "lunal/attest/collateral/source.h"
#include "lunal/attest/engine/verifier.h"
#include "lunal/attest/policy/policy.h"
#include "lunal/attest/token/token.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/common/time.h"
#include "lunal/net/server.h"

namespace lunal::attest::service {

// Bearer-token authentication (RFC 6750 §2.1) of every endpoint except /healthz,
// /.well-known/jwks.json and /v1/attestation/jwks.
struct AuthOptions {
  // SHA-256 of each accepted token (the configuration never holds a token itself). A presented
  // token is hashed and compared with every entry in constant time.
  std::vector<std::array<std::uint8_t, 32>> token_sha256 = {};
  // Turns authentication off. Only `lunald attestation --insecure-no-auth` sets it; the service
  // logs a warning at start and /healthz says so.
  bool insecure_no_auth = false;
};

struct ServiceLimits {
  std::size_t max_body_bytes = std::size_t{1} << 20;        // whole request body: 413 above
  std::size_t max_evidence_bytes = std::size_t{256} << 10;  // decoded evidence: 413 above
  std::size_t max_event_log_bytes = std::size_t{1} << 20;   // decoded event log: 413 above
  std::size_t max_certs = 4;                                // "certs" entries: 400 above
};

struct ServiceOptions {
  std::shared_ptr<const engine::EvidenceVerifier> verifier;  // required
  // For GET /v1/attestation/collateral and the collateral gauges; null: an empty list.
  std::shared_ptr<const collateral::CollateralSource> collateral = nullptr;
  // For POST /v1/attestation/attest; null: 503 attest.unavailable.
  std::shared_ptr<Attester> attester = nullptr;
  // Signs result tokens and publishes the JWKS; null: issue_token gets 503
  // attest.token.unavailable and the JWKS is empty.
  std::shared_ptr<const token::Issuer> issuer = nullptr;
  // "now" for verification (unless the request's "at" is allowed and given) and for /collateral.
  // Borrowed; must outlive the service. Null: SystemClock.
  const Clock* clock = nullptr;
  AuthOptions auth = {};
  ServiceLimits limits = {};
  // Whether a request may choose the verification time ("at"). Off by default: a relying party
  // must not pick a time at which expired collateral or a revoked certificate was still good.
  bool allow_request_time = false;
  // The policy for requests that send none; unset: policy::DefaultPolicy() (the engine's).
  std::optional<policy::Policy> default_policy = std::nullopt;
  // Shown by /healthz (e.g. "simulation root trusted"), beside the auth warning.
  std::vector<std::string> notices = {};
};

class AttestationService {
 public:
  static Result<std::unique_ptr<AttestationService>> Create(ServiceOptions options);
  ~AttestationService();
  AttestationService(const AttestationService&) = delete;
  AttestationService& operator=(const AttestationService&) = delete;

  // Serves HTTP. `server.max_body_bytes` is replaced by limits.max_body_bytes. Errors: the
  // server's (net.bind_failed, net.bad_options, ...).
  Status Start(net::ServerOptions server);
  // Graceful: see net::HttpServer::Stop. Idempotent.
  void Stop(std::chrono::milliseconds grace);

  std::uint16_t port() const;
  // "http://127.0.0.1:41234" (brackets for IPv6); valid after Start.
  std::string url() const;

  // The routes, for embedding the service in another server (lunald dev). The router borrows
  // this service, which must outlive it.
  Result<net::Router> MakeRouter();

  struct Impl;

 private:
  explicit AttestationService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lunal::attest::service
