// `lunal sign` and `lunal signature verify`: developer signatures over a build hash file in
// OpenSSH's SSHSIG format (src/sign, docs/formats/sshsig.md).
//
//   lunal sign --hash-file hash.txt --key ~/.ssh/id_ed25519 [--namespace lunal] [--json]
//   lunal signature verify --hash-file F --signature S --allowed-signers A --identity I
//                          [--namespace lunal] [--json]
//
// Wiring in app.cc is two calls: AddSignCommands(app) before parsing, then
// RunSignCommands(commands, json) after it (nullopt when neither command was selected).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace lunal::cli {

struct SignCommandsState;

// Owns the flag storage CLI11 writes into; keep it alive until RunSignCommands returns.
class SignCommands {
 public:
  explicit SignCommands(std::unique_ptr<SignCommandsState> state);
  SignCommands(SignCommands&&) noexcept;
  SignCommands& operator=(SignCommands&&) noexcept;
  ~SignCommands();
  SignCommandsState& state() { return *state_; }

 private:
  std::unique_ptr<SignCommandsState> state_;
};

SignCommands AddSignCommands(CLI::App& app);

// The exit code of the selected command (printing its result), or nullopt if none was selected.
std::optional<int> RunSignCommands(SignCommands& commands, bool json);

}  // namespace lunal::cli
