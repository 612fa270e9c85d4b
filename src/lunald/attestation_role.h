// `lunald attestation`: the attestation service role (src/attest/service). Flags and wiring only.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace lunal::lunald {

struct AttestationFlags {
  bool insecure_no_auth = false;
};

// Adds the role's options and its --help text (with an example configuration) to `command`.
void AddAttestationOptions(CLI::App& command, AttestationFlags& flags);

// Runs the service until SIGTERM or SIGINT: prints {"url": "http://…"} as one JSON line on
// stdout once listening, then stops gracefully. Returns the exit code. `config_path` may be empty
// (every default: loopback, ephemeral port, no collateral, no attester).
int RunAttestation(const std::string& config_path, const AttestationFlags& flags, bool json);

}  // namespace lunal::lunald
