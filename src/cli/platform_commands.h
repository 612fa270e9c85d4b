// The platform commands: the control plane's API (api_client.h) for people and scripts.
//
//   lunal login [--api URL] [--token T]
//   lunal deploy [PATH|ARCHIVE|GIT_URL] [--name N] [--env production|development] [--branch B]
//                [--instances K]
//   lunal status [--app N]
//   lunal attestation status --app N
//   lunal attestation verify --deployment N [--sim-root FILE]   (local re-verification)
//   lunal upload --signature FILE --deployment N [--message FILE]
//   lunal logs --app N [-f] [--instance ID]
//   lunal scale --app N --instances K
//
// Every command takes --api/--token (else LUNAL_API/LUNAL_TOKEN, else the config file:
// client_config.h) and --json. Exit codes: docs/conventions.md.
//
// Wiring in app.cc: AddPlatformCommands(app, verify_flags) after the attestation commands, then
// RunPlatformCommands(commands, json) after parsing, before `attestation verify --evidence`.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

#include "attestation_verify.h"

namespace lunal::cli {

struct PlatformState;

// Owns the flag storage CLI11 writes into; keep it alive until RunPlatformCommands returns.
class PlatformCommands {
 public:
  explicit PlatformCommands(std::unique_ptr<PlatformState> state);
  PlatformCommands(PlatformCommands&&) noexcept;
  PlatformCommands& operator=(PlatformCommands&&) noexcept;
  ~PlatformCommands();
  PlatformState& state() { return *state_; }

 private:
  std::unique_ptr<PlatformState> state_;
};

// `verify` is the storage of `attestation verify` (app.cc), which gains --deployment, --api and
// --token; its --evidence stops being required (one of the two is).
PlatformCommands AddPlatformCommands(CLI::App& app, VerifyFlags& verify);

// The exit code of the selected command, or nullopt when none of these was selected.
std::optional<int> RunPlatformCommands(PlatformCommands& commands, bool json);

}  // namespace lunal::cli
