// Where the `lunal` CLI finds its API endpoint and token.
//
// Precedence, highest first: command-line flags (--api, --token), the environment (LUNAL_API,
// LUNAL_TOKEN), the config file ($LUNAL_CONFIG, else $XDG_CONFIG_HOME/lunal/config.yaml, else
// ~/.config/lunal/config.yaml), then built-in defaults. The config file is YAML:
//
//   api: http://127.0.0.1:7000
//   token: lnl_dev_...
//
// Unknown keys are errors naming the file, line and column, so a typo is never silently ignored.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "lunal/common/result.h"

namespace lunal::cli {

struct ClientConfig {
  std::string api = "http://127.0.0.1:7000";
  std::string token;
  // Where each value came from: "default", "file:<path>", "env:LUNAL_API", "flag:--api".
  std::map<std::string, std::string> source;
};

// Environment lookup, injectable for tests; empty means std::getenv (empty values count as unset).
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

struct ClientConfigInputs {
  std::optional<std::string> flag_api;
  std::optional<std::string> flag_token;
  EnvLookup getenv;
};

// The path of the config file that would be read (it may not exist).
std::string ClientConfigPath(const EnvLookup& getenv = {});

// Errors: config.read_failed (kUnavailable), config.yaml_syntax, config.unknown_key,
// config.wrong_type (kInvalidArgument), each naming file:line:column.
Result<ClientConfig> LoadClientConfig(const ClientConfigInputs& inputs);

}  // namespace lunal::cli
