#include "control_role.h"

#include <fmt/format.h>
#include <signal.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <shared_mutex>
#include <string>

#include "attested_identity.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/cli/output.h"
#include "lunal/common/files.h"
#include "lunal/common/json.h"
#include "lunal/common/log.h"
#include "lunal/common/time.h"
#include "lunal/control/control.h"
#include "lunal/control/remote.h"
#include "lunal/mesh/peer.h"
#include "lunal/mesh/tls.h"
#include "lunal/net/client.h"
#include "lunal/net/server.h"
#include "role_config.h"

namespace lunal::lunald {
namespace {

namespace fs = std::filesystem;
constexpr std::chrono::seconds kStopGrace{10};

constexpr const char* kFooter =
    R"help(Configuration: the `control:` section of the --config file (YAML; unknown keys are errors
naming file:line:column; relative paths are relative to the file).

  control:
    listen: 127.0.0.1:7000               # the REST API (/v1); default 127.0.0.1:7000
    threads: 8                           # default 8
    state_dir: /var/lib/lunal/control    # required: control.db, builds/, uploads/, dev-token
    node_url: https://127.0.0.1:7443     # required: a `lunald node` (mesh TLS)
    gateway_url: https://apps.example.com           # public: deployment URLs are built from it
    gateway_admin_url: https://127.0.0.1:8081       # required: the gateway's admin API (mesh TLS)
    cds_url: http://127.0.0.1:8444       # required: allow-list, CA, enrolment of this role
    operator_key: /etc/lunal/operator.pub.pem       # required: the pinned allow-list signer
    sim_root: /var/lib/lunal/sim-tdx     # required (DEVELOPMENT ONLY): attests this role; trusted
    tenant: lunal                        # this role's mesh identity: default lunal/control/
    deployment: control                  #   control-0
    instance: control-0
    node_deployment: node                # whom node_url must be: <tenant>/node
    gateway_deployment: gateway          # whom gateway_admin_url must be: <tenant>/gateway

Mesh (docs/protocols/platform-mesh.md): the control plane talks to the node and the gateway over
mesh mTLS only. It attests with a simulated TD under sim_root and enrols at the CDS with build hash
"sha256:" + SHA-256 of this lunald executable, which the operator's allow-list must name for
(tenant, deployment); the node and the gateway admit only that identity, and it admits only
theirs (a server with another certificate fails with mesh.peer.*).

Allow-list: this control plane never signs one. After a build it checks that the CDS's active
allow-list, verified against operator_key, names the build hash for (tenant, deployment); if not
the deployment fails with control.allow_list.not_listed, saying which hash the operator must list.

Prints {"url": "http://…", "token": "…"} (the admin token of tenant "dev", kept in
state_dir/dev-token) as one JSON line once serving; SIGTERM or SIGINT stops it (exit 0).)help";

struct ControlConfig {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 7000;
  int threads = 8;
  fs::path state_dir;
  std::string node_url;
  std::string gateway_url;
  std::string gateway_admin_url;
  std::string cds_url;
  fs::path operator_key;
  fs::path sim_root;
  RoleIdentity identity{.tenant = "lunal", .deployment = "control", .instance = "control-0"};
  std::string node_deployment = "node";
  std::string gateway_deployment = "gateway";
};

Result<ControlConfig> ParseControlConfig(const std::string& file) {
  LUNAL_ASSIGN_OR_RETURN(RoleSection section, RoleSection::Load(file, "control"));
  ControlConfig c;
  for (const auto& entry : section.node()) {
    const std::string key = entry.first.Scalar();
    const YAML::Node& v = entry.second;
    LUNAL_ASSIGN_OR_RETURN(bool identity_key, section.IdentityKey(v, key, c.identity));
    if (identity_key) continue;
    if (key == "listen") {
      LUNAL_RETURN_IF_ERROR(section.Listen(v, key, c.bind_address, c.port));
    } else if (key == "threads") {
      LUNAL_ASSIGN_OR_RETURN(auto n, section.Number(v, key, 2, 256));
      c.threads = static_cast<int>(n);
    } else if (key == "state_dir") {
      LUNAL_ASSIGN_OR_RETURN(c.state_dir, section.Path(v, key));
    } else if (key == "node_url") {
      LUNAL_RETURN_IF_ERROR(section.Url(v, key, c.node_url));
    } else if (key == "gateway_url") {
      LUNAL_RETURN_IF_ERROR(section.Url(v, key, c.gateway_url));
    } else if (key == "gateway_admin_url") {
      LUNAL_RETURN_IF_ERROR(section.Url(v, key, c.gateway_admin_url));
    } else if (key == "cds_url") {
      LUNAL_RETURN_IF_ERROR(section.Url(v, key, c.cds_url));
    } else if (key == "operator_key") {
      LUNAL_ASSIGN_OR_RETURN(c.operator_key, section.Path(v, key));
    } else if (key == "sim_root") {
      LUNAL_ASSIGN_OR_RETURN(c.sim_root, section.Path(v, key));
    } else if (key == "node_deployment") {
      LUNAL_ASSIGN_OR_RETURN(c.node_deployment, section.Text(v, key));
    } else if (key == "gateway_deployment") {
      LUNAL_ASSIGN_OR_RETURN(c.gateway_deployment, section.Text(v, key));
    } else {
      return section.Error(entry.first, key, "unknown key", "config.unknown_key");
    }
  }
  if (c.state_dir.empty()) return section.Missing("state_dir");
  if (c.node_url.empty()) return section.Missing("node_url");
  if (c.gateway_url.empty()) return section.Missing("gateway_url");
  if (c.gateway_admin_url.empty()) return section.Missing("gateway_admin_url");
  if (c.cds_url.empty()) return section.Missing("cds_url");
  if (c.operator_key.empty()) return section.Missing("operator_key");
  if (c.sim_root.empty()) return section.Missing("sim_root");
  return c;
}

Status Run(const ControlConfig& c, const sigset_t& stop_signals) {
  LUNAL_ASSIGN_OR_RETURN(std::string operator_pem, ReadFile(c.operator_key));
  LUNAL_ASSIGN_OR_RETURN(auto authority,
                         control::ListedByOperator::Create(c.cds_url, operator_pem));
  LUNAL_ASSIGN_OR_RETURN(std::shared_ptr<const attest::sim::SimulationRoot> sim_root,
                         attest::sim::SimulationRoot::Open(c.sim_root, SystemClock::Instance()));
  LUNAL_RETURN_IF_ERROR(EnsureDirectory(c.state_dir, 0700));

  // This role's mesh identity, and the node and gateway it accepts at the other end.
  LUNAL_ASSIGN_OR_RETURN(auto identity, EnrolPlatformRole(c.sim_root, c.cds_url, c.identity));
  LUNAL_ASSIGN_OR_RETURN(auto trust,
                         mesh::MeshTrust::FromPem(identity->ca_pem(), SystemClock::Instance()));
  LUNAL_ASSIGN_OR_RETURN(net::ClientTlsOptions node_tls,
                         mesh::MeshClientTls(identity->credentials(), trust,
                                             PlatformPeer(c.identity.tenant, c.node_deployment)));
  LUNAL_ASSIGN_OR_RETURN(
      net::ClientTlsOptions gateway_tls,
      mesh::MeshClientTls(identity->credentials(), trust,
                          PlatformPeer(c.identity.tenant, c.gateway_deployment)));

  // The node's events reach the control plane through this slot: the pump starts once the control
  // plane exists and stops before it goes (the slot is a second guard).
  struct Slots {
    std::shared_mutex mu;
    control::ControlPlane* control = nullptr;
  };
  auto slots = std::make_shared<Slots>();
  control::RemoteNode node({.base_url = c.node_url, .token = {}, .tls = std::move(node_tls)});
  control::RemoteRoutes routes(
      {.base_url = c.gateway_admin_url, .token = {}, .http = {.tls = std::move(gateway_tls)}});
  LUNAL_ASSIGN_OR_RETURN(auto control, control::ControlPlane::Open({.state_dir = c.state_dir,
                                                                    .node = &node,
                                                                    .routes = &routes,
                                                                    .authority = authority.get(),
                                                                    .sim_root = sim_root,
                                                                    .gateway_url = c.gateway_url,
                                                                    .allow_local_paths = false,
                                                                    .clock = nullptr}));
  LUNAL_ASSIGN_OR_RETURN(std::string dev_token, control->DevToken());
  {
    std::lock_guard lock(slots->mu);
    slots->control = control.get();
  }
  // Only now: the pump saves its place after each batch, so what it delivers must be received.
  node.FollowEvents(
      [slots](const node::NodeEvent& event) {
        std::shared_lock lock(slots->mu);
        if (slots->control != nullptr) slots->control->OnNodeEvent(event);
      },
      c.state_dir / "node-events.cursor");
  net::Router router;
  LUNAL_RETURN_IF_ERROR(control->AddRoutes(router));
  net::HttpServer server({.bind_address = c.bind_address,
                          .port = c.port,
                          .threads = c.threads,
                          .max_body_bytes = std::size_t{64} << 20,  // uploads
                          .read_timeout = std::chrono::seconds(120),
                          .on_internal_error = LogInternalError("control.internal_error")},
                         std::move(router));
  LUNAL_RETURN_IF_ERROR(server.Start());
  std::printf("%s\n",
              Json{{"url", ServiceUrl("http", c.bind_address, server.port())}, {"token", dev_token}}
                  .dump()
                  .c_str());
  std::fflush(stdout);
  log::Info("control.serving", {{"node", c.node_url},
                                {"gateway_admin", c.gateway_admin_url},
                                {"identity", identity->credentials()->Identity().Uri()}});
  LUNAL_RETURN_IF_ERROR(control->Recover());

  WaitForStopSignal(stop_signals, "control");
  server.Stop(kStopGrace);
  node.StopFollowing();  // before the slot empties: nothing delivered is dropped, nothing saved
                         // lost
  {
    std::lock_guard lock(slots->mu);
    slots->control = nullptr;
  }
  control->Shutdown();
  log::Info("control.stopped");
  return Status();
}

}  // namespace

void AddControlOptions(CLI::App& command, ControlFlags&) { command.footer(kFooter); }

int RunControl(const std::string& config_path, const ControlFlags&, bool json) {
  const sigset_t stop_signals = BlockStopSignals();

  if (config_path.empty()) return cli::ReportError(NeedsConfig("control"), json);
  auto config = ParseControlConfig(config_path);
  if (!config.ok()) return cli::ReportError(config.error(), json);
  if (Status s = Run(*config, stop_signals); !s.ok()) return cli::ReportError(s, json);
  return cli::kExitOk;
}

}  // namespace lunal::lunald
