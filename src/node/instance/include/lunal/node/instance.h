// The instance agent: the first process inside an instance's sandbox (binary lunald-instance),
// standing where a TD's guest agent stands on real hardware (docs/protocols/instance-agent.md).
//
// RunInstanceAgent(spec), in order:
//   1. extends RTMR3 with lunal.build-hash (spec.build_hash) and lunal.instance-id events
//      (tdx::EncodeLunalEvent) through the attester
//   2. generates the instance key (P-256) in this process; it never leaves it
//   3. enrols at the CDS (cds::Enroll: challenge, evidence binding key + nonce + build hash,
//      certificate) → the mesh certificate
//   4. starts the app (spec.command in spec.app_dir, PORT=spec.app_port, its stdout/stderr are
//      the agent's) and waits until it accepts TCP connections on 127.0.0.1:app_port
//   5. serves mesh TLS on spec.listen_port: clients must present a mesh certificate of the
//      gateway (spec.gateway_tenant/gateway_deployment, any build, simulated per spec); each
//      request is forwarded to the app over loopback HTTP and its response returned
//   6. reports ready (address, nonce, certificate, evidence) to the node
//   7. renews the certificate (re-attesting) at two thirds of its lifetime, and checks the app's
//      liveness every spec.health_interval_ms: GET spec.health_path over loopback HTTP must
//      bring a complete response (any status) within spec.health_timeout_ms. After
//      spec.health_failures failures in a row (a hung app: a TCP probe would not see it, the
//      kernel completes handshakes for a stopped process) it logs instance.unhealthy, stops the
//      app (SIGTERM, SIGKILL after spec.app_grace_ms) and exits with kExitUnhealthy (the node
//      reports node.instance.unhealthy and the control plane replaces the instance).
//   8. on SIGTERM: stops accepting, lets requests finish (spec.drain), SIGTERM to the app,
//      SIGKILL after spec.app_grace_ms; exits 0. When the app exits on its own the agent
//      exits with kExitAppExited (the node reports node.instance.exited).
// A failure before ready is reported with DeviceAttester::ReportFailed and exits 1.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lunal/attest/attester.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"

namespace lunal::node {

// lunald-instance's exit statuses (the node reads them through bwrap, which passes them on).
inline constexpr int kInstanceExitFailed = 1;     // before ready; reported to the node first
inline constexpr int kInstanceExitAppExited = 3;  // the app ended on its own
inline constexpr int kInstanceExitUnhealthy = 4;  // the app failed its liveness check

// The JSON file the node writes at kSpecPath (members as named here). Required: tenant,
// deployment, instance_id, build_hash, cds_url, cds_ca_pem, app_port (1..65535) and command
// (non-empty); the rest default as below. listen_port 0 picks an ephemeral port (the "ready"
// report names it). Unknown members are refused.
struct InstanceSpec {
  std::string tenant = {};
  std::string deployment = {};
  std::string instance_id = {};
  std::string build_hash = {};
  std::string cds_url = {};
  std::string cds_ca_pem = {};
  std::string gateway_tenant = "lunal";
  std::string gateway_deployment = "gateway";
  bool allow_simulated_peers = true;
  std::uint16_t listen_port = 0;  // mesh TLS, on 127.0.0.1
  // An inherited socket already listening on 127.0.0.1:listen_port in the host's network
  // namespace (the sandbox has its own): the mesh server serves on it. -1: bind listen_port.
  std::int64_t listen_fd = -1;
  // Enrol through the device's "cds" relay (device.h) instead of HTTP to cds_url: the sandbox has
  // no network beyond its own loopback.
  bool cds_via_device = false;
  std::uint16_t app_port = 0;  // the app's plain HTTP port, on 127.0.0.1
  std::string app_dir = "/app";
  std::vector<std::string> command = {};  // argv of the app
  std::map<std::string, std::string> env = {};
  std::string device = "/run/lunal/tdx.sock";
  std::int64_t drain_ms = 2000;      // step 8: how long requests in flight may finish
  std::int64_t app_grace_ms = 3000;  // step 8: SIGTERM to the app, SIGKILL after this
  // Step 7's liveness check; health_interval_ms 0 turns it off.
  std::string health_path = "/";  // an origin-form target: starts with '/'
  std::int64_t health_interval_ms = 10'000;
  std::int64_t health_timeout_ms = 5'000;
  std::int64_t health_failures = 3;  // in a row, 1..100
};
Result<InstanceSpec> ParseInstanceSpec(const Json& json);  // node.spec.bad_field
Json ToJson(const InstanceSpec& spec);

// Runs until SIGTERM (or the app's exit); returns the process exit status.
int RunInstanceAgent(const InstanceSpec& spec);

}  // namespace lunal::node
