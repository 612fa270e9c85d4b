#include "node_role.h"

#include <fmt/format.h>
#include <signal.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "attested_identity.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/cli/output.h"
#include "lunal/common/files.h"
#include "lunal/common/log.h"
#include "lunal/common/status.h"
#include "lunal/common/time.h"
#include "lunal/mesh/tls.h"
#include "lunal/net/client.h"
#include "lunal/net/server.h"
#include "lunal/node/event_feed.h"
#include "lunal/node/http.h"
#include "lunal/node/node.h"
#include "role_config.h"

namespace lunal::lunald {
namespace {

namespace fs = std::filesystem;
constexpr std::chrono::seconds kStopGrace{10};

constexpr const char* kFooter =
    R"help(Configuration: the `node:` section of the --config file (YAML; unknown keys are errors
naming file:line:column; relative paths are relative to the file).

  node:
    listen: 127.0.0.1:7443              # default 127.0.0.1:0 (an ephemeral port)
    threads: 4                          # default 4 (a launch holds one until the instance is ready)
    state_dir: /var/lib/lunal/node      # required: instances, allow-list.version (created 0700)
    sim_root: /var/lib/lunal/sim-tdx    # required: the sim-tdx state folder (DEVELOPMENT ONLY)
    operator_key: /etc/lunal/operator.pub.pem   # required: the pinned allow-list signer
    cds_url: http://127.0.0.1:8444      # required: allow-list (GET /v1/cds/manifest), CA, enrolment
    instance_agent: /usr/lib/lunal/lunald-instance   # default: lunald-instance beside lunald
    gateway_tenant: lunal               # who may call instances over mesh TLS
    gateway_deployment: gateway
    launch_timeout_seconds: 30
    tenant: lunal                       # the node's own mesh identity: default lunal/node/node-0
    deployment: node
    instance: node-0
    control_deployment: control         # who may call the node API: <tenant>/control

Trust: the node decides for itself what may run. It runs only builds named by an allow-list
signed with the pinned operator key (fetched from the CDS, never lower in version than one seen
before); the control plane may only ask. The CDS is trusted for its CA and as the place the
signed list is fetched from, not for its contents.

Identity: like `lunald gateway`, the node attests with a simulated TD under `sim_root` and enrols
at the CDS with build hash "sha256:" + SHA-256 of this lunald executable, which the operator's
allow-list must name for (tenant, deployment). Its API is served over mesh mTLS only
(docs/protocols/platform-mesh.md): the client must present a CDS mesh certificate for
<tenant>/<control_deployment> (`lunald control`); anyone else fails the handshake, logged as
node.api.refused.

Endpoints (docs/protocols/instance-agent.md "HTTP API"):
POST/GET /v1/node/instances, DELETE /v1/node/instances/{id},
GET /v1/node/events?after=SEQ&wait=SECONDS. Prints {"url": "https://…", "mr_td": …,
"identity": "lunal://…"} on stdout when serving; SIGTERM or SIGINT stops every instance and
exits 0.)help";

struct NodeConfig {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;
  int threads = 4;
  fs::path state_dir;
  fs::path sim_root;
  fs::path operator_key;
  std::string cds_url;
  fs::path instance_agent;
  std::string gateway_tenant = "lunal";
  std::string gateway_deployment = "gateway";
  std::chrono::seconds launch_timeout{30};
  RoleIdentity identity{.tenant = "lunal", .deployment = "node", .instance = "node-0"};
  std::string control_deployment = "control";
};

Result<NodeConfig> ParseNodeConfig(const std::string& file) {
  LUNAL_ASSIGN_OR_RETURN(RoleSection section, RoleSection::Load(file, "node"));
  NodeConfig c;
  for (const auto& entry : section.node()) {
    const std::string key = entry.first.Scalar();
    const YAML::Node& v = entry.second;
    LUNAL_ASSIGN_OR_RETURN(bool identity_key, section.IdentityKey(v, key, c.identity));
    if (identity_key) continue;
    if (key == "listen") {
      LUNAL_RETURN_IF_ERROR(section.Listen(v, key, c.bind_address, c.port));
    } else if (key == "threads") {
      // A launch holds a server thread until the instance is ready: at least one more serves.
      LUNAL_ASSIGN_OR_RETURN(auto n, section.Number(v, key, 2, 256));
      c.threads = static_cast<int>(n);
    } else if (key == "state_dir") {
      LUNAL_ASSIGN_OR_RETURN(c.state_dir, section.Path(v, key));
    } else if (key == "sim_root") {
      LUNAL_ASSIGN_OR_RETURN(c.sim_root, section.Path(v, key));
    } else if (key == "operator_key") {
      LUNAL_ASSIGN_OR_RETURN(c.operator_key, section.Path(v, key));
    } else if (key == "cds_url") {
      LUNAL_RETURN_IF_ERROR(section.Url(v, key, c.cds_url));
    } else if (key == "instance_agent") {
      LUNAL_ASSIGN_OR_RETURN(c.instance_agent, section.Path(v, key));
    } else if (key == "gateway_tenant") {
      LUNAL_ASSIGN_OR_RETURN(c.gateway_tenant, section.Text(v, key));
    } else if (key == "gateway_deployment") {
      LUNAL_ASSIGN_OR_RETURN(c.gateway_deployment, section.Text(v, key));
    } else if (key == "launch_timeout_seconds") {
      LUNAL_ASSIGN_OR_RETURN(auto n, section.Number(v, key, 1, 3600));
      c.launch_timeout = std::chrono::seconds(n);
    } else if (key == "control_deployment") {
      LUNAL_ASSIGN_OR_RETURN(c.control_deployment, section.Text(v, key));
    } else {
      return section.Error(entry.first, key, "unknown key", "config.unknown_key");
    }
  }
  if (c.state_dir.empty()) return section.Missing("state_dir");
  if (c.sim_root.empty()) return section.Missing("sim_root");
  if (c.operator_key.empty()) return section.Missing("operator_key");
  if (c.cds_url.empty()) return section.Missing("cds_url");
  return c;
}

// The active allow-list envelope from the CDS (docs/protocols/cds.md: GET /v1/cds/manifest →
// {"active": {"version", "envelope"}|null, …}). A client per call: node threads call this
// concurrently and HttpClient is single-threaded.
Result<std::string> FetchAllowList(const std::string& cds_url) {
  net::HttpClient client({.request_timeout = std::chrono::seconds(10)});
  auto doc = client.SendJson("GET", cds_url + "/v1/cds/manifest");
  if (!doc.ok()) {
    return Unavailable("node.allow_list.unavailable", "the CDS's allow-list: {}",
                       doc.error().ToString());
  }
  if (!doc->is_object() || !(*doc)["active"].is_object()) {
    return Unavailable("node.allow_list.unavailable", "the CDS has no allow-list yet");
  }
  const Json& env = (*doc)["active"]["envelope"];
  return env.is_string() ? env.get<std::string>() : env.dump();
}

Result<std::string> FetchCa(const std::string& cds_url) {
  net::HttpClient client({.request_timeout = std::chrono::seconds(10)});
  auto doc = client.SendJson("GET", cds_url + "/v1/cds/ca");
  if (!doc.ok()) return doc.error().WithContext("GET " + cds_url + "/v1/cds/ca");
  auto pem = JsonString(*doc, "certificate");
  if (!pem.ok()) {
    return Malformed("node.cds.bad_answer", "GET {}/v1/cds/ca: no \"certificate\"", cds_url);
  }
  return std::move(*pem);
}

}  // namespace

void AddNodeOptions(CLI::App& command, NodeFlags&) { command.footer(kFooter); }

int RunNode(const std::string& config_path, const NodeFlags&, bool json) {
  const sigset_t stop_signals = BlockStopSignals();

  if (config_path.empty()) return cli::ReportError(NeedsConfig("node"), json);
  auto config = ParseNodeConfig(config_path);
  if (!config.ok()) return cli::ReportError(config.error(), json);
  auto operator_pem = ReadFile(config->operator_key);
  if (!operator_pem.ok()) return cli::ReportError(operator_pem.error(), json);
  auto sim_root = attest::sim::SimulationRoot::Open(config->sim_root, SystemClock::Instance());
  if (!sim_root.ok()) return cli::ReportError(sim_root.error(), json);
  auto ca = FetchCa(config->cds_url);
  if (!ca.ok()) return cli::ReportError(ca.error(), json);
  auto identity = EnrolPlatformRole(config->sim_root, config->cds_url, config->identity);
  if (!identity.ok()) return cli::ReportError(identity.error(), json);
  auto trust = mesh::MeshTrust::FromPem((*identity)->ca_pem(), SystemClock::Instance());
  if (!trust.ok()) return cli::ReportError(trust.error(), json);
  // The API: mesh mTLS, and only the control plane's identity may call it.
  auto control_only =
      ControlPlaneOnly(**identity, *trust, config->identity.tenant, config->control_deployment,
                       "node.auth.unauthenticated", "node.api.refused");
  if (!control_only.ok()) return cli::ReportError(control_only.error(), json);
  fs::path agent_binary = config->instance_agent;
  if (agent_binary.empty()) {
    std::error_code ec;
    agent_binary = fs::read_symlink("/proc/self/exe", ec).parent_path() / "lunald-instance";
  }

  // The feed outlives the agent (declared first): the agent's threads publish into it.
  node::EventFeed feed;
  const std::string cds_url = config->cds_url;
  auto agent =
      node::NodeAgent::Create({.state_dir = config->state_dir,
                               .sim_root = *sim_root,
                               .operator_key_pem = *operator_pem,
                               .manifest_source = [cds_url]() { return FetchAllowList(cds_url); },
                               .cds_url = cds_url,
                               .cds_ca_pem = *ca,
                               .gateway_tenant = config->gateway_tenant,
                               .gateway_deployment = config->gateway_deployment,
                               .allow_simulated_peers = true,
                               .instance_agent = agent_binary,
                               .launch_timeout = config->launch_timeout,
                               .on_event = feed.Sink(),
                               .clock = &SystemClock::Instance()});
  if (!agent.ok()) return cli::ReportError(agent.error(), json);
  net::Router router;
  if (Status s = node::AddNodeRoutes(router, **agent, std::move(control_only->authorize), &feed);
      !s.ok()) {
    return cli::ReportError(s, json);
  }
  net::HttpServer server({.bind_address = config->bind_address,
                          .port = config->port,
                          .threads = config->threads,
                          .max_body_bytes = std::size_t{1} << 20,
                          .tls = std::move(control_only->tls),
                          .on_internal_error = LogInternalError("node.internal_error")},
                         std::move(router));
  if (Status s = server.Start(); !s.ok()) return cli::ReportError(s, json);
  std::printf("%s\n", Json{{"url", ServiceUrl("https", config->bind_address, server.port())},
                           {"mr_td", (*agent)->MrTdHex()},
                           {"identity", (*identity)->credentials()->Identity().Uri()}}
                          .dump()
                          .c_str());
  std::fflush(stdout);

  WaitForStopSignal(stop_signals, "node");
  feed.Close();  // waiting polls answer now
  server.Stop(kStopGrace);
  (*agent)->StopAll(std::chrono::milliseconds(5'000));
  agent->reset();
  log::Info("node.stopped");
  return cli::kExitOk;
}

}  // namespace lunal::lunald
