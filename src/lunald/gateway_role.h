// `lunald gateway`: the gateway role as its own process (docs/protocols/dev-platform.md; issue 8:
// "Roles can also run as separate lunald processes"). It enrols its own attested mesh identity at
// the CDS (attested_identity.h), serves the public port (lunal/gateway/gateway.h) and the admin
// API through which a control plane pushes routes (lunal/gateway/admin.h), prints
// {"url", "admin_url"} as one JSON line on stdout once both listen, and stops on SIGTERM/SIGINT.
//
// Errors (exit codes by cli::ReportError): config.* (the `gateway:` section, with
// file:line:column), file.* (the admin token file: missing, not 0600), the CDS's (an allow-list
// refusal cds.allow_list.* says which build hash the operator must list), net.bind_failed.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace lunal::lunald {

struct GatewayFlags {};

// Adds the role's options and its --help text (with an example configuration) to `command`.
void AddGatewayOptions(CLI::App& command, GatewayFlags& flags);

// Runs until SIGTERM or SIGINT; the `gateway:` section of the --config file configures it.
// Returns the exit code.
int RunGateway(const std::string& config_path, const GatewayFlags& flags, bool json);

}  // namespace lunal::lunald
