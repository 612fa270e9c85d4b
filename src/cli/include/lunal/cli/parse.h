// Command-line parsing shared by `lunal` and `lunald`, so both treat --help, --version and
// usage errors the same way.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>

namespace lunal::cli {

// Parses argv into `app`. Returns std::nullopt when the command should run, or the exit code to
// return now: 0 after --help or --version (CLI11 prints them), 2 after a usage error, reported
// as `cli.usage` (as a JSON error object when `json` was set by the flags parsed so far).
std::optional<int> ParseCommandLine(CLI::App& app, int argc, char** argv, const bool& json);

}  // namespace lunal::cli
