// `lunald control`: the control plane as its own process (docs/protocols/dev-platform.md "Roles as
// separate processes"; issue 8: "Roles can also run as separate lunald processes"). It serves the
// REST API (lunal/control/control.h), launches through a `lunald node` (control::RemoteNode, which
// also follows the node's events), pushes routes to a `lunald gateway`'s admin API
// (control::RemoteRoutes), and never signs an allow-list: a build runs only once the operator
// has listed its hash (control::ListedByOperator; otherwise the deployment fails with
// control.allow_list.not_listed). Prints {"url", "token"} (the admin token of tenant "dev") as
// one JSON line once serving, and stops on SIGTERM/SIGINT.
//
// Errors (exit codes by cli::ReportError): config.* (the `control:` section, with
// file:line:column), file.* (token files: missing, not 0600), control.* (opening the state),
// net.bind_failed.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace lunal::lunald {

struct ControlFlags {};

// Adds the role's --help text (with an example configuration) to `command`.
void AddControlOptions(CLI::App& command, ControlFlags& flags);

// Runs until SIGTERM or SIGINT; the `control:` section of the --config file configures it.
// Returns the exit code.
int RunControl(const std::string& config_path, const ControlFlags& flags, bool json);

}  // namespace lunal::lunald
