// The control plane (DESIGN.md "Components", issue 8): the REST API under /v1 (docs/api/
// openapi.yaml), tenants and hashed bearer tokens, deployments and their builds, instances,
// attestation records, developer signatures, events and logs, in SQLite (lunal::db) under
// state_dir. It is untrusted by design: it asks the node to launch a build and the node decides
// (node.h); what it stores about attestation is evidence anyone can re-verify
// (attest/deployment_record.h).
//
// A deployment goes building → built → launching → running, or failed with a stable reason:
//   building   the source (an upload, a git URL, or in dev a local path) through build::RunBuild
//   built      build hash and manifest stored; the allow-list authority adds the build hash
//   launching  NodeApi::Launch for each desired instance
//   running    at least one instance ready: its evidence stored as the attestation, the gateway
//              route set to every ready instance
// The reconciler keeps `instances_desired` instances: a replacement is launched when a node
// reports an instance exited; scale adds or stops instances. Recover() (at start) relaunches every
// deployment that was launching or running.
//
// Every read and write is scoped to the caller's tenant: another tenant's deployment is
// 404 control.deployment.not_found, exactly as a name that does not exist.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "lunal/attest/sim/simulation_root.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/common/time.h"
#include "lunal/gateway/gateway.h"
#include "lunal/net/server.h"
#include "lunal/node/node.h"

namespace lunal::control {

// Where launches go: a NodeAgent in process (lunald dev) or a node over HTTP.
class NodeApi {
 public:
  virtual ~NodeApi() = default;
  virtual Result<node::InstanceStatus> Launch(const node::LaunchRequest& request) = 0;
  virtual Status Stop(std::string_view instance_id) = 0;
};

// Where routes go: a Gateway in process, or gateways over HTTP.
class RouteSink {
 public:
  virtual ~RouteSink() = default;
  virtual void SetRoute(gateway::Route route) = 0;
  virtual void RemoveRoute(std::string_view deployment) = 0;
};

// Who adds a build hash to the operator-signed allow-list. In lunald dev the local user is the
// operator: the dev platform signs a new manifest version with .lunal/operator.key and installs
// it at the CDS. In production this is a person's decision, outside the control plane.
class AllowListAuthority {
 public:
  virtual ~AllowListAuthority() = default;
  virtual Status Allow(std::string_view tenant, std::string_view deployment,
                       std::string_view build_hash) = 0;
};

struct ControlOptions {
  std::filesystem::path state_dir = {};     // required: control.db, builds/, uploads/
  NodeApi* node = nullptr;                  // required
  RouteSink* routes = nullptr;              // required
  AllowListAuthority* authority = nullptr;  // required
  // The dev platform's simulation root: served by GET /v1/platform and the evidence bundle, and
  // trusted by the control plane's own verifier. Null: only hardware evidence verifies.
  std::shared_ptr<const attest::sim::SimulationRoot> sim_root = nullptr;
  std::string gateway_url = {};            // "http://localhost:7080": deployment URLs are
                                           // http://<name>.localhost:7080/ (and …/d/<name>/)
  bool allow_local_paths = false;          // dev: a deployment may name a folder on this machine
  std::filesystem::path builder_key = {};  // default: state_dir/builder-key.pem
  std::size_t max_upload_bytes = std::size_t{64} << 20;
  const Clock* clock = nullptr;
};

class ControlPlane {
 public:
  static Result<std::unique_ptr<ControlPlane>> Open(ControlOptions options);
  ~ControlPlane();  // Shutdown()

  // Registers every /v1 route (and /healthz) on `router`.
  Status AddRoutes(net::Router& router);

  // A new tenant and its first token (shown once: only its SHA-256 is stored).
  // Conflict control.tenant.exists.
  Result<std::string> CreateTenant(std::string_view name, bool admin);
  // The dev token of tenant "dev" (admin): created at first start, kept in state_dir/dev-token
  // (0600) so a restart prints the same one.
  Result<std::string> DevToken();

  // From the node's on_event.
  void OnNodeEvent(const node::NodeEvent& event);
  // Relaunches deployments that were launching or running (asynchronously).
  Status Recover();
  // Stops background work (builds finish or are abandoned, no new launches).
  void Shutdown();

 private:
  struct Impl;
  explicit ControlPlane(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lunal::control
