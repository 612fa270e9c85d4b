#include "gateway_role.h"

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
#include "lunal/common/bytes.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/common/json.h"
#include "lunal/common/log.h"
#include "lunal/common/time.h"
#include "lunal/crypto/digest.h"
#include "lunal/gateway/admin.h"
#include "lunal/gateway/gateway.h"
#include "lunal/net/server.h"
#include "role_config.h"

namespace lunal::lunald {
namespace {

namespace fs = std::filesystem;
constexpr std::chrono::seconds kStopGrace{10};

constexpr const char* kFooter =
    R"help(Configuration: the `gateway:` section of the --config file (YAML; unknown keys are errors
naming file:line:column; relative paths are relative to the file).

  gateway:
    listen: 0.0.0.0:8080                 # the public port; default 127.0.0.1:0 (ephemeral)
    admin_listen: 127.0.0.1:8081         # the admin API (mesh TLS); default 127.0.0.1:0
    domain: apps.example.com             # Host routing <deployment>.<domain>; default localhost
    threads: 4                           # default 4
    cds_url: https://cds.example.com     # required: where the gateway enrols its identity
    sim_root: /var/lib/lunal/sim-tdx     # required for now (see below)
    tenant: lunal                        # the gateway's mesh identity: default lunal/gateway/
    deployment: gateway                  #   gateway-0, which instances admit as their gateway
    instance: gateway-0
    control_deployment: control          # who may call the admin API: <tenant>/control

Identity: the gateway attests with a simulated TD rooted in the sim-tdx state folder `sim_root`
(the CDS must trust that root); on TEE machines a hardware attester replaces it. It enrols with
build hash "sha256:" + SHA-256 of this lunald executable, which the operator's signed allow-list
must name for (tenant, deployment), e.g.:
  echo "sha256:$(sha256sum "$(command -v lunald)" | cut -d' ' -f1)"

Once both ports listen it prints {"url": "http://…", "admin_url": "https://…"} as one JSON line.
Admin API (docs/protocols/gateway.md; docs/protocols/platform-mesh.md): mesh mTLS only — the
client must present a CDS mesh certificate for <tenant>/<control_deployment> (`lunald control`);
anyone else fails the handshake, logged as gateway.admin.refused.
  PUT /v1/gateway/routes/{deployment}   {"tenant", "build_hashes", "allow_simulated", "backends"}
  DELETE /v1/gateway/routes/{deployment}, GET /v1/gateway/routes, GET /v1/gateway/metrics)help";

struct GatewayConfig {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;
  std::string admin_bind_address = "127.0.0.1";
  std::uint16_t admin_port = 0;
  std::string domain = "localhost";
  int threads = 4;
  std::string cds_url;
  fs::path sim_root;
  RoleIdentity identity{.tenant = "lunal", .deployment = "gateway", .instance = "gateway-0"};
  std::string control_deployment = "control";
};

Result<GatewayConfig> ParseGatewayConfig(const std::string& file) {
  LUNAL_ASSIGN_OR_RETURN(RoleSection section, RoleSection::Load(file, "gateway"));
  GatewayConfig c;
  for (const auto& entry : section.node()) {
    const std::string key = entry.first.Scalar();
    const YAML::Node& v = entry.second;
    LUNAL_ASSIGN_OR_RETURN(bool identity_key, section.IdentityKey(v, key, c.identity));
    if (identity_key) continue;
    if (key == "listen") {
      LUNAL_RETURN_IF_ERROR(section.Listen(v, key, c.bind_address, c.port));
    } else if (key == "admin_listen") {
      LUNAL_RETURN_IF_ERROR(section.Listen(v, key, c.admin_bind_address, c.admin_port));
    } else if (key == "domain") {
      LUNAL_ASSIGN_OR_RETURN(c.domain, section.Text(v, key));
    } else if (key == "threads") {
      LUNAL_ASSIGN_OR_RETURN(auto n, section.Number(v, key, 1, 256));
      c.threads = static_cast<int>(n);
    } else if (key == "cds_url") {
      LUNAL_RETURN_IF_ERROR(section.Url(v, key, c.cds_url));
    } else if (key == "sim_root") {
      LUNAL_ASSIGN_OR_RETURN(c.sim_root, section.Path(v, key));
    } else if (key == "control_deployment") {
      LUNAL_ASSIGN_OR_RETURN(c.control_deployment, section.Text(v, key));
    } else {
      return section.Error(entry.first, key, "unknown key", "config.unknown_key");
    }
  }
  if (c.cds_url.empty()) return section.Missing("cds_url");
  if (c.sim_root.empty()) return section.Missing("sim_root");
  return c;
}

}  // namespace

void AddGatewayOptions(CLI::App& command, GatewayFlags&) { command.footer(kFooter); }

int RunGateway(const std::string& config_path, const GatewayFlags&, bool json) {
  const sigset_t stop_signals = BlockStopSignals();

  if (config_path.empty()) return cli::ReportError(NeedsConfig("gateway"), json);
  auto config = ParseGatewayConfig(config_path);
  if (!config.ok()) return cli::ReportError(config.error(), json);
  auto identity = EnrolPlatformRole(config->sim_root, config->cds_url, config->identity);
  if (!identity.ok()) return cli::ReportError(identity.error(), json);
  const mesh::MeshIdentity self = (*identity)->credentials()->Identity();
  auto trust = mesh::MeshTrust::FromPem((*identity)->ca_pem(), SystemClock::Instance());
  if (!trust.ok()) return cli::ReportError(trust.error(), json);

  auto gw = gateway::Gateway::Start({.bind_address = config->bind_address,
                                     .port = config->port,
                                     .threads = config->threads,
                                     .domain = config->domain,
                                     .credentials = (*identity)->credentials(),
                                     .mesh_ca_pem = (*identity)->ca_pem(),
                                     .clock = nullptr});
  if (!gw.ok()) return cli::ReportError(gw.error(), json);
  // The admin API: mesh mTLS, and only the control plane's identity may call it.
  auto control_only =
      ControlPlaneOnly(**identity, *trust, config->identity.tenant, config->control_deployment,
                       "gateway.admin.unauthenticated", "gateway.admin.refused");
  if (!control_only.ok()) return cli::ReportError(control_only.error(), json);
  net::Router router;
  if (Status s = gateway::AddGatewayAdminRoutes(router, **gw, std::move(control_only->authorize));
      !s.ok()) {
    return cli::ReportError(s, json);
  }
  net::HttpServer admin({.bind_address = config->admin_bind_address,
                         .port = config->admin_port,
                         .threads = 2,
                         .max_body_bytes = std::size_t{1} << 20,
                         .tls = std::move(control_only->tls),
                         .on_internal_error = LogInternalError("gateway.admin.internal_error")},
                        std::move(router));
  if (Status s = admin.Start(); !s.ok()) return cli::ReportError(s, json);

  std::printf("%s\n",
              Json{{"url", ServiceUrl("http", config->bind_address, (*gw)->port())},
                   {"admin_url", ServiceUrl("https", config->admin_bind_address, admin.port())}}
                  .dump()
                  .c_str());
  std::fflush(stdout);
  log::Info("gateway.serving", {{"identity", self.Uri()}, {"build_hash", self.build_hash}});

  WaitForStopSignal(stop_signals, "gateway");
  admin.Stop(kStopGrace);
  (*gw)->Stop(kStopGrace);
  log::Info("gateway.stopped");
  return cli::kExitOk;
}

}  // namespace lunal::lunald
