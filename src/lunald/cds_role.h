// `lunald cds`: the Certificate Distribution Service role (src/cds). Flags, configuration and
// wiring only; docs/protocols/cds.md describes the protocol and the configuration.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace lunal::lunald {

struct CdsFlags {};

// Adds the role's options and its --help text (with an example configuration) to `command`.
void AddCdsOptions(CLI::App& command, CdsFlags& flags);

// Runs the CDS until SIGTERM or SIGINT: prints {"url": "http://…", "ca_sha256": "…"} as one JSON
// line on stdout once listening. The `cds:` section of the --config file is required
// (state_dir, operator_key); evidence is verified in process with the file's `attestation:`
// section (collateral, trust_simulation_root). Returns the exit code.
int RunCds(const std::string& config_path, const CdsFlags& flags, bool json);

}  // namespace lunal::lunald
