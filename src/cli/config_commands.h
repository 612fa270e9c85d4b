// `lunal config validate [FILE]` and `lunal init [PATH] [--write]`: the lunal.config.yaml schema
// and runtime detection of src/build (docs/formats/lunal-config.md) on the command line.
//
//   config validate: exit 0 valid (prints the effective config), 1 invalid (every error listed,
//                    "file:line:column: field: message [reason]"), 2 usage or an unreadable file,
//                    5 no such file.
//   init:            prints the suggested lunal.config.yaml with the reasons as comments; --write
//                    creates PATH/lunal.config.yaml and refuses (exit 1, init.exists) to replace
//                    one; exit 5 when no runtime is recognised.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

namespace lunal::cli {

struct ConfigCommands {
  CLI::App* validate = nullptr;
  CLI::App* init = nullptr;
  std::string file = "lunal.config.yaml";
  std::string path = ".";
  bool write = false;
};

// Adds `config validate` and `init` to `app`; the result must outlive parsing.
std::unique_ptr<ConfigCommands> AddConfigCommands(CLI::App& app);
// The exit code when one of these commands was selected, else nullopt.
std::optional<int> RunConfigCommands(const ConfigCommands& commands, bool json);

}  // namespace lunal::cli
