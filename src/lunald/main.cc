// lunald: the Lunal daemon. Each role (attestation, cds, node, gateway, control, build) is a
// library with a thin entry here; `lunald dev` runs them all in one process.
//
// Configuration conventions (DESIGN.md): flags, then LUNALD_* environment variables, then the
// YAML file given by --config. Logs go to stderr as text or JSON lines (--log-format).
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

#include "attestation_role.h"
#include "cds_role.h"
#ifdef LUNAL_HAVE_DEV_ROLE
#include "control_role.h"
#include "dev_role.h"
#include "gateway_role.h"
#include "node_role.h"
#endif
#include "lunal/cli/output.h"
#include "lunal/cli/parse.h"
#include "lunal/common/log.h"
#include "lunal/version.h"

namespace {

struct Role {
  const char* name;
  const char* description;
};

// Roles in the order DESIGN.md lists them. A role that is not built in yet says so and exits
// with the "unsupported" status rather than pretending to run; `attestation`, `cds` and `dev`
// run (attestation_role.h, cds_role.h, dev_role.h, and node, gateway and control).
constexpr Role kRoles[] = {
    {"attestation", "Attestation service: verify evidence, serve collateral and result tokens"},
    {"build", "Build service: hermetic reproducible builds, build hashes, provenance"},
    {"cds", "Certificate Distribution Service: attestation-gated certificates and secrets"},
    {"node", "Node agent: enforce the signed allow-list and run instances in TEEs"},
    {"gateway", "Gateway: route traffic to attested instances over mesh mTLS"},
    {"control", "Control plane: REST API, state, scheduling, autoscaling"},
    {"dev", "Every role in one process with SQLite and a simulated TDX node"},
};

// The daemon's YAML file has one section per role (`attestation:`, `cds:`, ...), each read by
// that role. Until a role is built its section is only checked for being a mapping; a key that
// names no role is an error, so a misspelt section is never silently ignored.
lunal::Status CheckConfigFile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return lunal::InvalidArgument("config.read_failed", "--config {}: cannot read the file", path);
  } catch (const YAML::Exception& e) {
    return lunal::InvalidArgument("config.yaml_syntax", "{}:{}:{}: {}", path, e.mark.line + 1,
                                  e.mark.column + 1, e.msg);
  }
  if (root.IsNull()) return lunal::Status();
  if (!root.IsMap()) {
    return lunal::InvalidArgument("config.wrong_type", "{}: the file must be a mapping of roles",
                                  path);
  }
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    const YAML::Mark mark = entry.first.Mark();
    bool known = false;
    for (const Role& role : kRoles) known = known || key == role.name;
    if (!known) {
      return lunal::InvalidArgument("config.unknown_key",
                                    "{}:{}:{}: unknown section \"{}\" (sections are role names: "
                                    "attestation, build, cds, node, gateway, control, dev)",
                                    path, mark.line + 1, mark.column + 1, key);
    }
    if (!entry.second.IsMap() && !entry.second.IsNull()) {
      return lunal::InvalidArgument("config.wrong_type", "{}:{}:{}: \"{}\" must be a mapping", path,
                                    mark.line + 1, mark.column + 1, key);
    }
  }
  return lunal::Status();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("lunald: the Lunal daemon. Run one role per process, or all of them with 'dev'.",
               "lunald");
  app.set_version_flag("--version", fmt::format("lunald {}", lunal::kVersion));
  app.require_subcommand(1);
  app.fallthrough();

  std::string config_path, log_level = "info", log_format = "text";
  bool json = false;
  app.add_option("--config", config_path, "YAML configuration file")->envname("LUNALD_CONFIG");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->envname("LUNALD_LOG_LEVEL");
  app.add_option("--log-format", log_format, "text or json")->envname("LUNALD_LOG_FORMAT");
  app.add_flag("--json", json, "Print errors as JSON");
  app.footer("Run 'lunald <role> --help' for a role's options.");

  lunal::lunald::AttestationFlags attestation_flags;
  lunal::lunald::CdsFlags cds_flags;
#ifdef LUNAL_HAVE_DEV_ROLE
  lunal::lunald::ControlFlags control_flags;
  lunal::lunald::DevFlags dev_flags;
  lunal::lunald::GatewayFlags gateway_flags;
  lunal::lunald::NodeFlags node_flags;
#endif
  for (const Role& role : kRoles) {
    CLI::App* command = app.add_subcommand(role.name, role.description);
    if (std::string_view(role.name) == "attestation") {
      lunal::lunald::AddAttestationOptions(*command, attestation_flags);
    }
    if (std::string_view(role.name) == "cds") lunal::lunald::AddCdsOptions(*command, cds_flags);
#ifdef LUNAL_HAVE_DEV_ROLE
    if (std::string_view(role.name) == "control") {
      lunal::lunald::AddControlOptions(*command, control_flags);
    }
    if (std::string_view(role.name) == "dev") lunal::lunald::AddDevOptions(*command, dev_flags);
    if (std::string_view(role.name) == "gateway") {
      lunal::lunald::AddGatewayOptions(*command, gateway_flags);
    }
    if (std::string_view(role.name) == "node") lunal::lunald::AddNodeOptions(*command, node_flags);
#endif
  }

  if (auto exit_now = lunal::cli::ParseCommandLine(app, argc, argv, json)) return *exit_now;

  auto level = lunal::log::ParseLevel(log_level);
  if (!level.ok()) return lunal::cli::ReportError(level.error().WithContext("--log-level"), json);
  auto format = lunal::log::ParseFormat(log_format);
  if (!format.ok()) {
    return lunal::cli::ReportError(format.error().WithContext("--log-format"), json);
  }
  lunal::log::Init({.level = *level, .format = *format});
  if (!config_path.empty()) {
    if (auto s = CheckConfigFile(config_path); !s.ok()) return lunal::cli::ReportError(s, json);
  }

  const std::string role = app.get_subcommands().front()->get_name();
  if (role == "attestation") {
    return lunal::lunald::RunAttestation(config_path, attestation_flags, json);
  }
  if (role == "cds") return lunal::lunald::RunCds(config_path, cds_flags, json);
#ifdef LUNAL_HAVE_DEV_ROLE
  if (role == "control") return lunal::lunald::RunControl(config_path, control_flags, json);
  if (role == "dev") return lunal::lunald::RunDev(dev_flags, json);
  if (role == "gateway") return lunal::lunald::RunGateway(config_path, gateway_flags, json);
  if (role == "node") return lunal::lunald::RunNode(config_path, node_flags, json);
#endif
  return lunal::cli::ReportError(
      lunal::Unsupported("lunald.role_unavailable",
                         "the '{}' role is not available in lunald {} yet", role, lunal::kVersion),
      json);
}
