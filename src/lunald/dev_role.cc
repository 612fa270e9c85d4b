#include "dev_role.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "attested_identity.h"
#include "lunal/attest/service/config.h"
#include "lunal/attest/service/service.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/cds/cds.h"
#include "lunal/cds/http.h"
#include "lunal/cds/manifest.h"
#include "lunal/cli/output.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/common/log.h"
#include "lunal/common/time.h"
#include "lunal/control/control.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/dsse.h"
#include "lunal/crypto/keys.h"
#include "lunal/crypto/random.h"
#include "lunal/gateway/gateway.h"
#include "lunal/mesh/tls.h"
#include "lunal/net/server.h"
#include "lunal/node/http.h"
#include "lunal/node/node.h"
#include "role_config.h"

namespace lunal::lunald {
namespace {

namespace fs = std::filesystem;
constexpr std::chrono::seconds kStopGrace{5};
// The gateway is a platform component with its own mesh identity, appraised like an instance.
constexpr std::string_view kPlatformTenant = "lunal";
constexpr std::string_view kGatewayDeployment = "gateway";

constexpr const char* kFooter = R"help(State (--state, default ./.lunal; created 0700):
  control/       the control plane's SQLite database, builds and uploads
  cds/           the CDS (its CA key stored wrapped under cds/master.key)
  sim/           the per-installation Lunal Simulation Root CA and simulated Intel PKI
  node/          instances (extracted artifacts, sandboxes' run folders)
  operator.key.pem   the dev operator key: signs an allow-list version for each build deployed
  control/dev-token  the token of tenant "dev" (also printed at start)

The simulated TEE gives no hardware protection: every attestation says "simulated": true, and
only verifiers told to trust this installation's simulation root accept it.

Examples:
  lunald dev                                   # API on 127.0.0.1:7000, gateway on :7080
  lunald dev --api-port 0 --gateway-port 0 --ready-file /tmp/lunal.json
  export LUNAL_API=http://127.0.0.1:7000 LUNAL_TOKEN=$(cat .lunal/control/dev-token)
  lunal deploy examples/hello-python)help";

std::string HostPort(const std::string& host, std::uint16_t port) {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

Result<std::string> Sha256OfFile(const fs::path& path) {
  LUNAL_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, {.max_bytes = std::size_t{1} << 30}));
  return HexEncode(crypto::Sha256(ToBytes(bytes)));
}

// The operator key: created once (P-256, 0600), then loaded.
Result<crypto::PrivateKey> OperatorKey(const fs::path& file) {
  LUNAL_ASSIGN_OR_RETURN(auto existing, ReadFileIfExists(file, {.require_private = true}));
  if (existing) return crypto::PrivateKey::FromPem(*existing);
  LUNAL_ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::Generate(crypto::KeyType::kEcP256));
  LUNAL_ASSIGN_OR_RETURN(std::string pem, key.ToPkcs8Pem());
  LUNAL_RETURN_IF_ERROR(WriteFileAtomically(file, pem, 0600));
  return key;
}

// A random token kept in a 0600 file (same value across restarts).
Result<std::string> PersistentToken(const fs::path& file, std::string_view prefix) {
  LUNAL_ASSIGN_OR_RETURN(auto existing, ReadFileIfExists(file, {.require_private = true}));
  if (existing) {
    std::string t = *existing;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
    return t;
  }
  const Bytes random = crypto::RandomBytes(32);
  std::string token = std::string(prefix) + Base64UrlEncode(random);
  LUNAL_RETURN_IF_ERROR(WriteFileAtomically(file, token + "\n", 0600));
  return token;
}

// In dev the local user is the operator: each Allow signs the next allow-list version with the
// operator key and installs it at the CDS, keeping every earlier entry.
class DevAuthority final : public control::AllowListAuthority {
 public:
  DevAuthority(cds::Cds& cds, crypto::PrivateKey key) : cds_(cds), key_(std::move(key)) {}

  Status Allow(std::string_view tenant, std::string_view deployment,
               std::string_view build_hash) override {
    std::lock_guard lock(mu_);
    cds::AllowList list;
    if (auto active = cds_.ActiveAllowList()) list = *active;
    cds::AllowListEntry* entry = nullptr;
    for (auto& e : list.entries) {
      if (e.tenant == tenant && e.deployment == deployment) entry = &e;
    }
    if (entry == nullptr) {
      list.entries.push_back({.tenant = std::string(tenant),
                              .deployment = std::string(deployment),
                              .build_hashes = {},
                              .measurements = {},
                              .allow_simulated = true,
                              .min_tcb = {}});
      entry = &list.entries.back();
    }
    for (const auto& h : entry->build_hashes) {
      if (h == build_hash) return Status();  // already listed
    }
    entry->build_hashes.emplace_back(build_hash);
    Json entries = Json::array();
    for (const auto& e : list.entries) {
      Json measurements = Json::object();
      for (const auto& [name, values] : e.measurements) measurements[name] = values;
      Json j = {{"tenant", e.tenant},
                {"deployment", e.deployment},
                {"build_hashes", e.build_hashes},
                {"allow_simulated", e.allow_simulated}};
      if (!measurements.empty()) j["measurements"] = measurements;
      entries.push_back(std::move(j));
    }
    const Json payload = {{"version", list.version + 1},
                          {"issued_at", FormatRfc3339(SystemClock::Instance().Now())},
                          {"entries", entries}};
    crypto::DsseEnvelope env{.payload_type = std::string(cds::kAllowListPayloadType),
                             .payload = ToBytes(payload.dump()),
                             .signatures = {}};
    LUNAL_ASSIGN_OR_RETURN(auto sig, crypto::SignDsse(env, key_, "operator"));
    env.signatures.push_back(std::move(sig));
    return cds_.PutManifest(crypto::SerializeDsse(env));
  }

 private:
  cds::Cds& cds_;
  crypto::PrivateKey key_;
  std::mutex mu_;
};

class InProcessNode final : public control::NodeApi {
 public:
  explicit InProcessNode(node::NodeAgent& agent) : agent_(agent) {}
  Result<node::InstanceStatus> Launch(const node::LaunchRequest& request) override {
    return agent_.Launch(request);
  }
  Status Stop(std::string_view instance_id) override { return agent_.Stop(instance_id); }

 private:
  node::NodeAgent& agent_;
};

class InProcessRoutes final : public control::RouteSink {
 public:
  explicit InProcessRoutes(gateway::Gateway& gw) : gw_(gw) {}
  void SetRoute(gateway::Route route) override { gw_.SetRoute(std::move(route)); }
  void RemoveRoute(std::string_view deployment) override { gw_.RemoveRoute(deployment); }

 private:
  gateway::Gateway& gw_;
};

// One lunald dev per state folder: a second one would fight over ports, SQLite and instances.
Result<int> LockStateDir(const fs::path& dir) {
  const fs::path lock = dir / "lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Unavailable("dev.state.io", "{}: cannot open", lock.string());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Conflict("dev.state.locked", "{}: another lunald dev is running with this state folder",
                    dir.string());
  }
  return fd;
}

net::ServerOptions Server(const DevFlags& f, std::uint16_t port, int threads,
                          std::string_view role) {
  return {.bind_address = f.bind_address,
          .port = port,
          .threads = threads,
          .max_body_bytes = std::size_t{1} << 20,
          .on_internal_error = [role = std::string(role)](const net::HttpRequest& req,
                                                          const Status& s) {
            log::Error("dev.internal_error",
                       {{"role", role}, {"path", req.path}, {"status", s.ToString()}});
          }};
}

Status Run(const DevFlags& f, const sigset_t& stop_signals) {
  const fs::path state = fs::absolute(f.state_dir);
  LUNAL_RETURN_IF_ERROR(EnsureDirectory(state, 0700));
  LUNAL_ASSIGN_OR_RETURN(int lock_fd, LockStateDir(state));
  (void)lock_fd;  // held until exit

  const Clock& clock = SystemClock::Instance();
  LUNAL_ASSIGN_OR_RETURN(auto sim_root, attest::sim::SimulationRoot::Open(state / "sim", clock));
  LUNAL_ASSIGN_OR_RETURN(crypto::PrivateKey operator_key, OperatorKey(state / "operator.key.pem"));
  LUNAL_ASSIGN_OR_RETURN(auto operator_public, operator_key.PublicKey());
  LUNAL_ASSIGN_OR_RETURN(std::string operator_pem, operator_public.ToPem());
  LUNAL_ASSIGN_OR_RETURN(std::string node_token,
                         PersistentToken(state / "node-token", "lnl_node_"));

  const fs::path self_exe = fs::read_symlink("/proc/self/exe");
  LUNAL_ASSIGN_OR_RETURN(std::string self_digest, Sha256OfFile(self_exe));
  const std::string platform_build_hash = "sha256:" + self_digest;

  // Attestation service: verifies for anyone holding the dev token, attests with sim-tdx, and
  // trusts this installation's simulation root (said at /healthz and in every record).
  attest::service::ServiceConfig service_config;
  service_config.source = "lunald dev";
  service_config.bind_address = f.bind_address;
  service_config.port = f.attestation_port;
  service_config.threads = 2;
  service_config.trust_simulation_root = state / "sim";
  service_config.attester = {.kind = attest::service::AttesterKind::kSimTdx,
                             .state_dir = state / "sim",
                             .mr_td = {},
                             .configfs_root = {}};
  service_config.token.key_dir = state / "attestation" / "token-keys";
  LUNAL_RETURN_IF_ERROR(EnsureDirectory(state / "attestation", 0700));

  // The control plane opens first for the dev token, which the attestation service accepts.
  // Its collaborators (node, gateway) are created below and handed over through these slots.
  // Node events may arrive from several node threads at once; OnNodeEvent does not block, so
  // they share the lock, and shutdown takes it exclusively to detach the control plane.
  struct Slots {
    std::shared_mutex mu;
    control::ControlPlane* control = nullptr;
  };
  auto slots = std::make_shared<Slots>();

  // CDS, verifying in process with the attestation service's verifier.
  LUNAL_ASSIGN_OR_RETURN(
      auto runtime,
      attest::service::BuildRuntime(service_config, {.clock = &clock, .insecure_no_auth = true}));
  auto verifier = runtime.options.verifier;
  LUNAL_ASSIGN_OR_RETURN(auto cds, cds::Cds::Open({.state_dir = state / "cds",
                                                   .master_key_file = std::nullopt,
                                                   .master_key = std::nullopt,
                                                   .operator_key_pem = operator_pem,
                                                   .verifier = verifier,
                                                   .clock = &clock}));
  LUNAL_ASSIGN_OR_RETURN(net::Router cds_router, cds::MakeRouter(*cds, {}));
  net::HttpServer cds_server(Server(f, f.cds_port, 2, "cds"), std::move(cds_router));
  LUNAL_RETURN_IF_ERROR(cds_server.Start());
  const std::string cds_url = "http://" + HostPort(f.bind_address, cds_server.port());
  const std::string cds_ca_pem = cds->ca_certificate().ToPem();

  DevAuthority authority(*cds, operator_key.Clone());
  LUNAL_RETURN_IF_ERROR(authority.Allow(kPlatformTenant, kGatewayDeployment, platform_build_hash));

  // Gateway.
  LUNAL_ASSIGN_OR_RETURN(
      auto gateway_identity,
      AttestedIdentity::Enrol(sim_root, {.cds_url = cds_url,
                                         .tenant = std::string(kPlatformTenant),
                                         .deployment = std::string(kGatewayDeployment),
                                         .instance = "gateway-0",
                                         .build_hash = platform_build_hash}));
  LUNAL_ASSIGN_OR_RETURN(auto gw,
                         gateway::Gateway::Start({.bind_address = f.bind_address,
                                                  .port = f.gateway_port,
                                                  .threads = 4,
                                                  .domain = "localhost",
                                                  .credentials = gateway_identity->credentials(),
                                                  .mesh_ca_pem = cds_ca_pem,
                                                  .clock = &clock}));
  const std::string gateway_url = fmt::format("http://localhost:{}", gw->port());

  // Node agent.
  const fs::path agent_binary = f.instance_agent.empty()
                                    ? self_exe.parent_path() / "lunald-instance"
                                    : fs::path(f.instance_agent);
  cds::Cds* cds_ptr = cds.get();
  LUNAL_ASSIGN_OR_RETURN(
      auto node_agent,
      node::NodeAgent::Create({.state_dir = state / "node",
                               .sim_root = sim_root,
                               .operator_key_pem = operator_pem,
                               .manifest_source = [cds_ptr]() -> Result<std::string> {
                                 LUNAL_ASSIGN_OR_RETURN(Json doc, cds_ptr->ManifestDocument());
                                 if (!doc["active"].is_object()) {
                                   return Unavailable("node.allow_list.unavailable",
                                                      "the CDS has no allow-list yet");
                                 }
                                 const Json& env = doc["active"]["envelope"];
                                 return env.is_string() ? env.get<std::string>() : env.dump();
                               },
                               .cds_url = cds_url,
                               .cds_ca_pem = cds_ca_pem,
                               .gateway_tenant = std::string(kPlatformTenant),
                               .gateway_deployment = std::string(kGatewayDeployment),
                               .allow_simulated_peers = true,
                               .instance_agent = agent_binary,
                               .on_event =
                                   [slots](const node::NodeEvent& event) {
                                     std::shared_lock lock(slots->mu);
                                     if (slots->control != nullptr)
                                       slots->control->OnNodeEvent(event);
                                   },
                               .clock = &clock}));
  net::Router node_router;
  LUNAL_RETURN_IF_ERROR(node::AddNodeRoutes(node_router, *node_agent, node_token));
  net::HttpServer node_server(Server(f, f.node_port, 2, "node"), std::move(node_router));
  LUNAL_RETURN_IF_ERROR(node_server.Start());

  // Control plane.
  InProcessNode node_api(*node_agent);
  InProcessRoutes routes(*gw);
  LUNAL_ASSIGN_OR_RETURN(auto control, control::ControlPlane::Open({.state_dir = state / "control",
                                                                    .node = &node_api,
                                                                    .routes = &routes,
                                                                    .authority = &authority,
                                                                    .sim_root = sim_root,
                                                                    .gateway_url = gateway_url,
                                                                    .allow_local_paths = true,
                                                                    .clock = &clock}));
  LUNAL_ASSIGN_OR_RETURN(std::string dev_token, control->DevToken());
  {
    std::lock_guard lock(slots->mu);
    slots->control = control.get();
  }
  net::Router api_router;
  LUNAL_RETURN_IF_ERROR(control->AddRoutes(api_router));
  net::ServerOptions api_options = Server(f, f.api_port, 8, "control");
  api_options.max_body_bytes = std::size_t{64} << 20;  // uploads
  api_options.read_timeout = std::chrono::seconds(120);
  net::HttpServer api_server(api_options, std::move(api_router));
  LUNAL_RETURN_IF_ERROR(api_server.Start());

  // Attestation service, accepting the dev token.
  runtime.options.auth.insecure_no_auth = false;
  runtime.options.auth.token_sha256 = {crypto::Sha256(ToBytes(dev_token))};
  LUNAL_ASSIGN_OR_RETURN(auto attestation,
                         attest::service::AttestationService::Create(runtime.options));
  runtime.server.bind_address = f.bind_address;
  runtime.server.port = f.attestation_port;
  LUNAL_RETURN_IF_ERROR(attestation->Start(runtime.server));

  const std::string api_url = "http://" + HostPort(f.bind_address, api_server.port());
  const std::string node_url = "http://" + HostPort(f.bind_address, node_server.port());
  const Json ready = {{"api", api_url},
                      {"gateway", gateway_url},
                      {"cds", cds_url},
                      {"attestation", attestation->url()},
                      {"node", node_url},
                      {"token", dev_token},
                      {"state_dir", state.string()},
                      {"sim_root_sha256", sim_root->FingerprintHex()},
                      {"pid", static_cast<long>(::getpid())}};
  std::printf(
      "lunald dev: every role in one process (state in %s)\n"
      "  API:           %s\n"
      "  Gateway:       %s   (apps at http://<name>.localhost:%u/ and %s/d/<name>/)\n"
      "  Attestation:   %s\n"
      "  CDS:           %s\n"
      "  Dev token:     %s\n"
      "  Simulation root SHA-256: %s\n"
      "  ⚠ sim-tdx: instances run in sandboxes with SIMULATED attestation; no hardware protects "
      "them.\n\n"
      "  export LUNAL_API=%s LUNAL_TOKEN=%s\n",
      state.c_str(), api_url.c_str(), gateway_url.c_str(), gw->port(), gateway_url.c_str(),
      attestation->url().c_str(), cds_url.c_str(), dev_token.c_str(),
      sim_root->FingerprintHex().c_str(), api_url.c_str(), dev_token.c_str());
  std::fflush(stdout);
  if (!f.ready_file.empty()) {
    LUNAL_RETURN_IF_ERROR(WriteFileAtomically(f.ready_file, ready.dump() + "\n", 0600));
  }
  log::Info("dev.ready", {{"api", api_url}, {"gateway", gateway_url}});

  LUNAL_RETURN_IF_ERROR(control->Recover());

  WaitForStopSignal(stop_signals, "dev");
  api_server.Stop(kStopGrace);
  control->Shutdown();
  {
    std::lock_guard lock(slots->mu);
    slots->control = nullptr;
  }
  node_server.Stop(std::chrono::seconds(1));
  node_agent->StopAll(kStopGrace);
  gw->Stop(kStopGrace);
  attestation->Stop(kStopGrace);
  cds_server.Stop(kStopGrace);
  log::Info("dev.stopped");
  return Status();
}

}  // namespace

void AddDevOptions(CLI::App& command, DevFlags& flags) {
  command.add_option("--state", flags.state_dir, "State folder (created 0700)")
      ->capture_default_str();
  command.add_option("--bind", flags.bind_address, "Address every role listens on")
      ->capture_default_str();
  command.add_option("--api-port", flags.api_port, "Control-plane API port (0: ephemeral)")
      ->capture_default_str();
  command.add_option("--gateway-port", flags.gateway_port, "Gateway port (0: ephemeral)")
      ->capture_default_str();
  command
      .add_option("--attestation-port", flags.attestation_port,
                  "Attestation service port (0: ephemeral)")
      ->capture_default_str();
  command.add_option("--cds-port", flags.cds_port, "CDS port (0: ephemeral)")
      ->capture_default_str();
  command.add_option("--node-port", flags.node_port, "Node agent API port (0: ephemeral)")
      ->capture_default_str();
  command.add_option("--ready-file", flags.ready_file,
                     "Write {api, gateway, cds, attestation, node, token, …} as JSON here once "
                     "every role serves");
  command.add_option("--instance-agent", flags.instance_agent,
                     "The lunald-instance binary (default: beside lunald)");
  command.footer(kFooter);
}

int RunDev(const DevFlags& flags, bool json) {
  // A peer that goes away mid-write (an instance killed during a device call, a client closing
  // early) is an error for that call, never the end of the platform.
  ::signal(SIGPIPE, SIG_IGN);
  const sigset_t stop_signals = BlockStopSignals();
  if (Status s = Run(flags, stop_signals); !s.ok()) return cli::ReportError(s, json);
  return cli::kExitOk;
}

}  // namespace lunal::lunald
