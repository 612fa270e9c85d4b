// `lunal provenance verify`: checks a build's DSSE provenance (src/build/provenance,
// docs/formats/provenance.md) against a pinned builder key or an attested builder's evidence.
//
//   lunal provenance verify --provenance F [--key PUB.pem] [--artifact FILE...]
//                           [--build-hash H] [--sim-root DIR|CERT] [--collateral DIR...] [--json]
//
// Wiring in app.cc is two calls: AddProvenanceCommands(app) before parsing, then
// RunProvenanceCommands(commands, json) after it (nullopt when the command was not selected).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace lunal::cli {

struct ProvenanceCommandsState;

// Owns the flag storage CLI11 writes into; keep it alive until RunProvenanceCommands returns.
class ProvenanceCommands {
 public:
  explicit ProvenanceCommands(std::unique_ptr<ProvenanceCommandsState> state);
  ProvenanceCommands(ProvenanceCommands&&) noexcept;
  ProvenanceCommands& operator=(ProvenanceCommands&&) noexcept;
  ~ProvenanceCommands();
  ProvenanceCommandsState& state() { return *state_; }

 private:
  std::unique_ptr<ProvenanceCommandsState> state_;
};

ProvenanceCommands AddProvenanceCommands(CLI::App& app);

// The exit code of the selected command (printing its result), or nullopt if none was selected.
std::optional<int> RunProvenanceCommands(ProvenanceCommands& commands, bool json);

}  // namespace lunal::cli
