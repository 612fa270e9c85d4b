// The node agent (DESIGN.md "Components", issue 8): runs instances of allow-listed builds in
// bubblewrap sandboxes on this machine, each with its own simulated TDX "hardware" (sim-tdx), and
// decides for itself what may run: the control plane only requests (DESIGN.md "The orchestrator
// requests; the node decides").
//
// Launch, in order (each refusal is recorded through on_event and returned, stable reasons):
//   1. request fields: names (cds::IsValidName), build hash form     node.request.bad_field
//   2. sha256(manifest_json) == build_hash                           node.launch.manifest_mismatch
//   3. the allow-list the node holds — the operator-signed DSSE envelope from manifest_source,
//      verified against the pinned operator key, version never lower than one seen before —
//      names build_hash for (tenant, deployment)        node.allow_list.unavailable,
//                                                       node.allow_list.rollback,
//                                                       node.allow_list.not_listed
//   4. sha256 of the artifact file == the manifest's digest for app.tar
//                                                       node.launch.artifact_mismatch
//   5. extraction into state_dir/instances/<id>/root (read-only afterwards) and the start command
//      from the artifact's own lunal.config.yaml (else detection), never from the request
//   6. the sandbox: bwrap, read-only /usr and app, private /tmp, no other files of the host; the
//      instance agent (lunald-instance, instance.h) runs inside and starts the app as its child
//   7. the instance agent attests through the node's sim-tdx device (device.h), obtains its mesh
//      certificate from the CDS and reports ready; Launch returns once it has (or fails with
//      node.launch.timeout after launch_timeout, node.instance.exited when the sandbox died first)
//
// Every reason (code): node.request.bad_field (kInvalidArgument); node.launch.manifest_mismatch,
// node.launch.artifact_mismatch (kVerificationFailed); node.allow_list.not_listed,
// node.allow_list.rollback, node.allow_list.bad_signature (the list offered is not signed by the
// pinned key or does not parse; the held list stays) (kPolicyViolation);
// node.allow_list.unavailable (kUnavailable); node.instance.exists (kConflict: the id is running
// here); node.launch.bad_manifest (kMalformed: no app.tar in it), node.launch.bad_artifact
// (kInvalidArgument: the archive's own refusal, e.g. a link leaving the tree),
// node.launch.bad_config (kInvalidArgument), node.launch.no_command (kUnsupported);
// node.launch.io, node.launch.no_port, node.state.io, node.sandbox.unavailable,
// node.sandbox.spawn_failed, node.device.bind_failed (kUnavailable); node.instance.exited,
// node.instance.failed (the instance agent reported a failure: its reason in the message),
// node.instance.stopped (Stop was called while it started) (kUnavailable); node.launch.timeout
// (kDeadlineExceeded). Create: node.config.bad_option (kInvalidArgument), node.state.*.
//
// Measurements of every instance (DESIGN.md "The simulated TEE"; docs/protocols/instance-agent.md
// "Node"): MRTD = SHA-384 of the canonical JSON {"instance_agent": sha256 of lunald-instance,
// "sandbox_policy_sha256": sha256 of the policy}; RTMR0 = the event "lunal.node-agent
// sha256:<hex of this executable>"; RTMR1 = the sandbox policy (canonical JSON); RTMR2 = zero;
// RTMR3 = what the instance agent extends through the device (Lunal events only).
//
// The node keeps no state across restarts except the highest allow-list version it accepted
// (state_dir/allow-list.version): instances die with the node (--die-with-parent) and the control
// plane relaunches them.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lunal/attest/sim/simulation_root.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/common/time.h"

namespace lunal::node {

struct LaunchRequest {
  std::string tenant = {};
  std::string deployment = {};
  std::string instance_id = {};         // unique per node; a cds::IsValidName
  std::string build_hash = {};          // "sha256:<64 hex>"
  std::string manifest_json = {};       // the build manifest: sha256 of these bytes = build_hash
  std::filesystem::path artifact = {};  // app.tar on this machine
  std::map<std::string, std::string> env = {};  // extra environment for the app (not LUNAL_*)
};

enum class InstanceState { kStarting, kRunning, kExited, kStopped, kFailed };
std::string_view InstanceStateName(InstanceState state);  // "starting", "running", …

struct InstanceStatus {
  std::string instance_id = {};
  std::string tenant = {};
  std::string deployment = {};
  std::string build_hash = {};
  InstanceState state = InstanceState::kStarting;
  std::string address = {};  // "127.0.0.1:<port>": the instance's mesh TLS endpoint
  int pid = 0;               // the sandbox's (bwrap) pid, for operators and tests
  // From the instance agent's ready report: what the control plane stores as the attestation.
  Json evidence = nullptr;           // the evidence envelope (quote + RTMR event log)
  std::string nonce = {};            // the CDS challenge nonce bound in REPORT_DATA
  std::string certificate_pem = {};  // the mesh certificate chain the CDS issued
  Timestamp started_at = {};
  std::string reason = {};  // failed / exited: a stable reason
  std::string message = {};
};
Json ToJson(const InstanceStatus& status);
// The inverse of ToJson, strict (every member ToJson writes, "reason"/"message" optional, no
// others): Malformed "node.json.bad_field" naming the member otherwise.
Result<InstanceStatus> InstanceStatusFromJson(const Json& doc);
Result<InstanceState> InstanceStateFromName(std::string_view name);  // node.json.bad_field

// The launch request on the wire (http.h): {"tenant", "deployment", "instance_id", "build_hash",
// "manifest_json", "artifact" (a path on the node), "env"?: {name: value}}.
Json ToJson(const LaunchRequest& request);
// Strict: InvalidArgument "node.request.bad_field" for a non-object, a missing or mistyped member
// or an unknown one (the start command is never the request's).
Result<LaunchRequest> LaunchRequestFromJson(const Json& doc);

struct NodeEvent {
  enum class Kind { kLaunchRefused, kReady, kExited, kStopped, kLog };
  Kind kind = Kind::kReady;
  InstanceStatus instance = {};
  // kLog: one line of the instance's stdout/stderr (without the newline).
  std::string stream = {};  // "stdout" | "stderr"
  std::string line = {};
};

struct NodeOptions {
  std::filesystem::path state_dir = {};                                   // required; created 0700
  std::shared_ptr<const attest::sim::SimulationRoot> sim_root = nullptr;  // required (sim-tdx)
  std::string operator_key_pem = {};  // required: pins the allow-list signer
  // The current allow-list DSSE envelope (JSON text), e.g. the CDS's active manifest. Called on
  // every launch whose build hash the held list does not name, and at most once per launch.
  std::function<Result<std::string>()> manifest_source = {};
  std::string cds_url = {};     // http://127.0.0.1:<port>, given to instance agents
  std::string cds_ca_pem = {};  // the mesh CA: instances verify the gateway's certificate with it
  // Who may call an instance over mesh TLS (the gateway's identity).
  std::string gateway_tenant = "lunal";
  std::string gateway_deployment = "gateway";
  bool allow_simulated_peers = true;
  std::filesystem::path instance_agent = {};  // the lunald-instance binary (required)
  std::chrono::milliseconds launch_timeout{30'000};
  std::chrono::milliseconds stop_grace{5'000};  // SIGTERM → SIGKILL
  // Each instance's liveness check (instance.h, step 7): GET health_path on the app every
  // health_interval (zero: off), each within health_timeout; health_failures failures in a row
  // end the instance, reported as kExited with reason node.instance.unhealthy.
  std::string health_path = "/";
  std::chrono::milliseconds health_interval{10'000};
  std::chrono::milliseconds health_timeout{5'000};
  int health_failures = 3;
  // Called from node threads (kLog from an instance's reader threads, kExited from its waiter):
  // must not block long, and a kLog handler must not Stop that instance.
  std::function<void(const NodeEvent&)> on_event = {};
  const Clock* clock = nullptr;
};

class NodeAgent {
 public:
  static Result<std::unique_ptr<NodeAgent>> Create(NodeOptions options);
  ~NodeAgent();  // stops every instance (grace 0)

  // Blocks until the instance is ready (kRunning) or refused/failed (see the steps above).
  Result<InstanceStatus> Launch(const LaunchRequest& request);
  // SIGTERM, then SIGKILL after `grace`; removes the instance. NotFound node.instance.unknown.
  Status Stop(std::string_view instance_id, std::optional<std::chrono::milliseconds> grace = {});
  std::vector<InstanceStatus> List() const;
  void StopAll(std::chrono::milliseconds grace);

  // The MRTD every instance of this node reports (96 lowercase hex digits): what an allow-list
  // entry's "measurements": {"mr_td": […]} pins.
  std::string MrTdHex() const;

 private:
  struct Impl;
  explicit NodeAgent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lunal::node
