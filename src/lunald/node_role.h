// `lunald node`: the node role as its own process (docs/protocols/dev-platform.md; issue 8:
// "Roles can also run as separate lunald processes").
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace lunal::lunald {

struct NodeFlags {};

// Adds the role's options and its --help text (with an example configuration) to `command`.
void AddNodeOptions(CLI::App& command, NodeFlags& flags);

// Runs until SIGTERM or SIGINT; the `node:` section of the --config file configures it.
// Returns the exit code.
int RunNode(const std::string& config_path, const NodeFlags& flags, bool json);

}  // namespace lunal::lunald
