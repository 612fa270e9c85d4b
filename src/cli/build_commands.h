// `lunal build`: the build pipeline (src/build/pipeline, docs/formats/build-output.md) on the
// command line.
//
//   lunal build [PATH|ARCHIVE|GIT-URL] [--out DIR] [--ref R] [--json] [--verify-reproducible]
//               [--builder-key F] [--attest-sim STATE_DIR] [--source-date-epoch N] [--keep-work]
//
// Exit status: 0 built (and reproducible when asked), 1 the build failed (any step: intake,
// config, recipe, …) or is not reproducible, 2 bad usage, 70 a bug in Lunal.
//
// Wiring in app.cc is two calls: AddBuildCommands(app) before parsing, then
// RunBuildCommands(commands, json) after it (nullopt when the command was not selected).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

namespace lunal::cli {

struct BuildCommandsState;

// Owns the flag storage CLI11 writes into; keep it alive until RunBuildCommands returns.
class BuildCommands {
 public:
  explicit BuildCommands(std::unique_ptr<BuildCommandsState> state);
  BuildCommands(BuildCommands&&) noexcept;
  BuildCommands& operator=(BuildCommands&&) noexcept;
  ~BuildCommands();
  BuildCommandsState& state() { return *state_; }

 private:
  std::unique_ptr<BuildCommandsState> state_;
};

BuildCommands AddBuildCommands(CLI::App& app);

// The exit code of `lunal build` (printing its result), or nullopt if it was not selected.
std::optional<int> RunBuildCommands(BuildCommands& commands, bool json);

}  // namespace lunal::cli
