#include "attestation_role.h"

#include <fmt/format.h>
#include <signal.h>

#include <chrono>
#include <cstdio>

#include "lunal/attest/service/config.h"
#include "lunal/attest/service/service.h"
#include "lunal/cli/output.h"
#include "lunal/common/log.h"
#include "role_config.h"

namespace lunal::lunald {
namespace {

constexpr std::chrono::seconds kStopGrace{10};

constexpr const char* kFooter =
    R"help(Configuration: the `attestation:` section of the --config file (YAML; unknown keys
are errors naming file:line:column). Every key is optional except what auth needs:

  attestation:
    listen: 127.0.0.1:8443          # default 127.0.0.1:0 (an ephemeral port)
    threads: 2                      # default: one per core
    auth:
      # SHA-256 of each accepted bearer token, never the token itself:
      #   printf %s "$TOKEN" | sha256sum
      token_sha256: [9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08]
    collateral:
      folders: [/var/lib/lunal/collateral]      # Intel TCB Info, QE identity, CRLs, chains
      pcs: {base_url: https://api.trustedservices.intel.com, cache_dir: /var/cache/lunal/pcs}
      kds: {base_url: https://kdsintf.amd.com, cache_dir: /var/cache/lunal/kds}
    trust_simulation_root: /var/lib/lunal/sim-tdx   # DEVELOPMENT ONLY: a sim-tdx state folder
                                                    # or its root-ca.pem
    attester: {type: sim-tdx, state_dir: /var/lib/lunal/sim-tdx}   # none | configfs | sim-tdx
    token:
      issuer: https://attest.example.com
      key_dir: /var/lib/lunal/token-keys       # created 0700; default: keys in memory
      lifetime_seconds: 300
    limits: {max_body_bytes: 1048576, max_evidence_bytes: 262144}
    verify:
      allow_request_time: false     # let requests choose "at" (tests, forensics)
      policy: /etc/lunal/policy.yaml  # default policy for requests that send none

Once listening, prints one JSON line on stdout: {"url": "http://127.0.0.1:8443"}.
SIGTERM or SIGINT stops it gracefully (requests in flight complete).

Endpoints (docs/protocols/attestation-service.md, docs/api/openapi.yaml):
  POST /v1/attestation/verify     {"evidence": <envelope or base64 file>, ...} -> record (+ token)
  POST /v1/attestation/attest     {"report_data": <128 hex>} -> evidence envelope
  GET  /v1/attestation/jwks, /.well-known/jwks.json, /healthz   (no auth)
  GET  /v1/attestation/collateral, /metrics

Example:
  lunald --config lunald.yaml attestation
  curl -s -H "Authorization: Bearer $TOKEN" -d '{"evidence": "'"$(base64 -w0 quote.dat)"'"}' \
      http://127.0.0.1:8443/v1/attestation/verify)help";

}  // namespace

void AddAttestationOptions(CLI::App& command, AttestationFlags& flags) {
  command.add_flag("--insecure-no-auth", flags.insecure_no_auth,
                   "Serve every endpoint without bearer tokens (development only; logged as a "
                   "warning at start and shown by /healthz)");
  command.footer(kFooter);
}

int RunAttestation(const std::string& config_path, const AttestationFlags& flags, bool json) {
  // Block the stop signals in every thread (the server's inherit this mask), then wait for them
  // here: no handler runs in an arbitrary thread, and the stop happens on this owning thread.
  const sigset_t stop_signals = BlockStopSignals();

  attest::service::ServiceConfig config;
  if (!config_path.empty()) {
    auto loaded = attest::service::LoadServiceConfig(config_path);
    if (!loaded.ok()) return cli::ReportError(loaded.error(), json);
    config = std::move(*loaded);
  }
  auto runtime =
      attest::service::BuildRuntime(config, {.insecure_no_auth = flags.insecure_no_auth});
  if (!runtime.ok()) return cli::ReportError(runtime.error(), json);
  for (const std::string& warning : runtime->warnings) {
    log::Warn("attestation.warning", {{"message", warning}});
  }
  auto service = attest::service::AttestationService::Create(std::move(runtime->options));
  if (!service.ok()) return cli::ReportError(service.error(), json);
  if (Status started = (*service)->Start(runtime->server); !started.ok()) {
    return cli::ReportError(started, json);
  }
  std::printf("%s\n", Json{{"url", (*service)->url()}}.dump().c_str());
  std::fflush(stdout);

  WaitForStopSignal(stop_signals, "attestation");
  (*service)->Stop(kStopGrace);
  log::Info("attestation.stopped");
  return cli::kExitOk;
}

}  // namespace lunal::lunald
