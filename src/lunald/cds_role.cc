#include "cds_role.h"

#include <fmt/format.h>
#include <signal.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "lunal/attest/service/config.h"
#include "lunal/cds/cds.h"
#include "lunal/cds/http.h"
#include "lunal/cds/remote_verifier.h"
#include "lunal/cli/output.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/common/log.h"
#include "lunal/net/server.h"
#include "role_config.h"

namespace lunal::lunald {
namespace {

namespace fs = std::filesystem;
constexpr std::chrono::seconds kStopGrace{10};

constexpr const char* kFooter =
    R"help(Configuration: the `cds:` section of the --config file (YAML; unknown keys are errors
naming file:line:column). Evidence is verified by a remote attestation service
(remote_verifier), or else in process, configured by the same file's `attestation:` section
(collateral folders, pcs, trust_simulation_root; see `lunald attestation --help`).

  cds:
    listen: 127.0.0.1:8444              # default 127.0.0.1:0 (an ephemeral port)
    threads: 2                          # default 2
    state_dir: /var/lib/lunal/cds       # required: cds.db, master.key (created 0700)
    master_key_file: /etc/lunal/cds-master.key   # optional: 32 raw bytes, mode 0600
    operator_key: /etc/lunal/operator.pub.pem    # required: the pinned allow-list signer (P-256)
    nonce_ttl_seconds: 120
    certificate_lifetime_seconds: 3600
    remote_verifier:                    # optional: verify through `lunald attestation`
      url: https://attest.example.com
      token_file: /etc/lunal/attest-token   # mode 0600
    auth:
      operator_token_sha256: [9f86d081…]         # GET /v1/cds/registry
      tenants: {acme: [60303ae2…]}               # PUT /v1/cds/secrets/{name}
  attestation:
    trust_simulation_root: /var/lib/lunal/sim-tdx   # DEVELOPMENT ONLY

Endpoints (docs/protocols/cds.md): POST /v1/cds/challenge, /v1/cds/certificates, /v1/cds/beacon,
/v1/cds/secrets/{name}/release; PUT /v1/cds/manifest, /v1/cds/secrets/{name};
GET /v1/cds/manifest, /v1/cds/ca, /v1/cds/registry, /healthz.)help";

struct CdsConfig {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;
  int threads = 2;
  fs::path state_dir;
  std::optional<fs::path> master_key_file;
  fs::path operator_key;
  std::chrono::seconds nonce_ttl{120};
  std::chrono::seconds certificate_lifetime{3600};
  cds::HttpOptions http;
  // Verify through a remote attestation service instead of in process.
  std::optional<std::string> remote_url;
  std::optional<fs::path> remote_token_file;
};

Result<cds::TokenDigest> Digest(const RoleSection& section, const YAML::Node& n,
                                std::string_view field) {
  auto bytes = n.IsScalar() ? HexDecode(n.Scalar()) : Result<Bytes>(Malformed("x", "x"));
  if (!bytes.ok() || bytes->size() != 32) {
    return section.Error(n, field, "expected 64 hex digits (SHA-256 of a token)");
  }
  cds::TokenDigest d{};
  std::copy(bytes->begin(), bytes->end(), d.begin());
  return d;
}

Result<std::vector<cds::TokenDigest>> Digests(const RoleSection& section, const YAML::Node& n,
                                              std::string_view field) {
  if (!n.IsSequence()) return section.Error(n, field, "expected a list", "config.wrong_type");
  std::vector<cds::TokenDigest> out;
  for (const YAML::Node& e : n) {
    LUNAL_ASSIGN_OR_RETURN(cds::TokenDigest d, Digest(section, e, field));
    out.push_back(d);
  }
  return out;
}

Result<CdsConfig> ParseCdsConfig(const std::string& file) {
  LUNAL_ASSIGN_OR_RETURN(RoleSection section, RoleSection::Load(file, "cds"));
  CdsConfig c;
  for (const auto& entry : section.node()) {
    const std::string key = entry.first.Scalar();
    const YAML::Node& v = entry.second;
    if (key == "listen") {
      LUNAL_RETURN_IF_ERROR(section.Listen(v, key, c.bind_address, c.port));
    } else if (key == "threads") {
      LUNAL_ASSIGN_OR_RETURN(auto n, section.Number(v, key, 1, 256));
      c.threads = static_cast<int>(n);
    } else if (key == "state_dir") {
      LUNAL_ASSIGN_OR_RETURN(c.state_dir, section.Path(v, key));
    } else if (key == "master_key_file") {
      LUNAL_ASSIGN_OR_RETURN(c.master_key_file, section.Path(v, key));
    } else if (key == "operator_key") {
      LUNAL_ASSIGN_OR_RETURN(c.operator_key, section.Path(v, key));
    } else if (key == "nonce_ttl_seconds") {
      LUNAL_ASSIGN_OR_RETURN(auto n, section.Number(v, key, 1, 3600));
      c.nonce_ttl = std::chrono::seconds(n);
    } else if (key == "certificate_lifetime_seconds") {
      LUNAL_ASSIGN_OR_RETURN(auto n, section.Number(v, key, 60, 7 * 24 * 3600));
      c.certificate_lifetime = std::chrono::seconds(n);
    } else if (key == "remote_verifier") {
      if (!v.IsMap()) return section.Error(v, key, "expected a mapping", "config.wrong_type");
      for (const auto& r : v) {
        const std::string k = r.first.Scalar();
        if (k == "url") {
          LUNAL_ASSIGN_OR_RETURN(c.remote_url, section.Text(r.second, "remote_verifier.url"));
        } else if (k == "token_file") {
          LUNAL_ASSIGN_OR_RETURN(c.remote_token_file,
                                 section.Path(r.second, "remote_verifier.token_file"));
        } else {
          return section.Error(r.first, "remote_verifier." + k, "unknown key",
                               "config.unknown_key");
        }
      }
      if (!c.remote_url)
        return section.Error(v, "remote_verifier.url", "required", "config.missing_field");
    } else if (key == "auth") {
      if (!v.IsMap()) return section.Error(v, key, "expected a mapping", "config.wrong_type");
      for (const auto& a : v) {
        const std::string k = a.first.Scalar();
        if (k == "operator_token_sha256") {
          LUNAL_ASSIGN_OR_RETURN(c.http.operator_tokens, Digests(section, a.second, "auth." + k));
        } else if (k == "tenants") {
          if (!a.second.IsMap()) return section.Error(a.second, "auth.tenants", "a mapping");
          for (const auto& t : a.second) {
            LUNAL_ASSIGN_OR_RETURN(c.http.tenant_tokens[t.first.Scalar()],
                                   Digests(section, t.second, "auth.tenants." + t.first.Scalar()));
          }
        } else {
          return section.Error(a.first, "auth." + k, "unknown key", "config.unknown_key");
        }
      }
    } else {
      return section.Error(entry.first, key, "unknown key", "config.unknown_key");
    }
  }
  if (c.state_dir.empty()) return section.Missing("state_dir");
  if (c.operator_key.empty()) return section.Missing("operator_key");
  return c;
}

}  // namespace

void AddCdsOptions(CLI::App& command, CdsFlags&) { command.footer(kFooter); }

int RunCds(const std::string& config_path, const CdsFlags&, bool json) {
  const sigset_t stop_signals = BlockStopSignals();

  if (config_path.empty()) return cli::ReportError(NeedsConfig("cds"), json);
  auto config = ParseCdsConfig(config_path);
  if (!config.ok()) return cli::ReportError(config.error(), json);
  auto operator_pem = ReadFile(config->operator_key);
  if (!operator_pem.ok()) return cli::ReportError(operator_pem.error(), json);

  // The verifier: a remote attestation service, or in process with the attestation section's
  // collateral and simulation trust.
  std::shared_ptr<const attest::engine::EvidenceVerifier> verifier;
  if (config->remote_url) {
    std::string token;
    if (config->remote_token_file) {
      auto read = ReadPrivateFile(*config->remote_token_file);
      if (!read.ok()) return cli::ReportError(read.error(), json);
      token = *read;
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    }
    verifier = cds::MakeRemoteVerifier({.base_url = *config->remote_url, .token = token});
  } else {
    auto attestation = attest::service::LoadServiceConfig(config_path);
    if (!attestation.ok()) return cli::ReportError(attestation.error(), json);
    auto runtime = attest::service::BuildRuntime(*attestation, {.insecure_no_auth = true});
    if (!runtime.ok()) return cli::ReportError(runtime.error(), json);
    for (const std::string& w : runtime->warnings) {
      if (w.find("simulation root") != std::string::npos) {
        log::Warn("cds.warning", {{"message", w}});
      }
    }
    verifier = runtime->options.verifier;
  }

  auto service = cds::Cds::Open({.state_dir = config->state_dir,
                                 .master_key_file = config->master_key_file,
                                 .operator_key_pem = *operator_pem,
                                 .verifier = verifier,
                                 .clock = nullptr,
                                 .nonce_ttl = config->nonce_ttl,
                                 .certificate_lifetime = config->certificate_lifetime});
  if (!service.ok()) return cli::ReportError(service.error(), json);
  auto router = cds::MakeRouter(**service, config->http);
  if (!router.ok()) return cli::ReportError(router.error(), json);
  net::HttpServer server({.bind_address = config->bind_address,
                          .port = config->port,
                          .threads = config->threads,
                          .max_body_bytes = std::size_t{1} << 20,
                          .on_internal_error = LogInternalError("cds.internal_error")},
                         std::move(*router));
  if (Status s = server.Start(); !s.ok()) return cli::ReportError(s, json);
  std::printf("%s\n", Json{{"url", ServiceUrl("http", config->bind_address, server.port())},
                           {"ca_sha256", HexEncode((*service)->ca_certificate().Sha256OfDer())}}
                          .dump()
                          .c_str());
  std::fflush(stdout);

  WaitForStopSignal(stop_signals, "cds");
  server.Stop(kStopGrace);
  log::Info("cds.stopped");
  return cli::kExitOk;
}

}  // namespace lunal::lunald
