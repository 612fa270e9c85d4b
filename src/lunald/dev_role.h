// `lunald dev`: every role in one process on this machine (DESIGN.md "Components"): the control
// plane (SQLite under --state, default ./.lunal), the attestation service, the CDS, one node agent
// with sim-tdx and the gateway. The local user is the operator: the dev platform holds the
// operator key (state/operator.key.pem) and signs an allow-list version for every build it
// deploys, which a production control plane can never do (docs/protocols/dev-platform.md).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace lunal::lunald {

struct DevFlags {
  std::string state_dir = ".lunal";
  std::string bind_address = "127.0.0.1";
  std::uint16_t api_port = 7000;
  std::uint16_t gateway_port = 7080;
  std::uint16_t attestation_port = 0;
  std::uint16_t cds_port = 0;
  std::uint16_t node_port = 0;
  std::string ready_file;      // JSON with every URL and the dev token, written once serving
  std::string instance_agent;  // default: lunald-instance beside this binary
};

void AddDevOptions(CLI::App& command, DevFlags& flags);

// Runs until SIGTERM or SIGINT; a restart with the same state folder recovers every deployment.
int RunDev(const DevFlags& flags, bool json);

}  // namespace lunal::lunald
