#include "lunal/cli/client_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace lunal::cli {
namespace {

std::optional<std::string> RealGetenv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::string Where(const std::string& path, const YAML::Mark& mark) {
  return fmt::format("{}:{}:{}", path, mark.line + 1, mark.column + 1);
}

Status ApplyFile(const std::string& path, ClientConfig& config) {
  std::ifstream in(path);
  if (!in) return Status();  // no file: defaults stand
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    return InvalidArgument("config.yaml_syntax", "{}: {}", Where(path, e.mark), e.msg);
  }
  if (root.IsNull()) return Status();
  if (!root.IsMap()) {
    return InvalidArgument("config.wrong_type", "{}: the config file must be a mapping",
                           Where(path, root.Mark()));
  }
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    if (key != "api" && key != "token") {
      return InvalidArgument("config.unknown_key",
                             "{}: unknown key \"{}\" (known keys: api, token)",
                             Where(path, entry.first.Mark()), key);
    }
    if (!entry.second.IsScalar()) {
      return InvalidArgument("config.wrong_type", "{}: \"{}\" must be a string",
                             Where(path, entry.second.Mark()), key);
    }
    (key == "api" ? config.api : config.token) = entry.second.Scalar();
    config.source[key] = "file:" + path;
  }
  return Status();
}

}  // namespace

std::string ClientConfigPath(const EnvLookup& lookup) {
  EnvLookup getenv = lookup ? lookup : EnvLookup(RealGetenv);
  if (auto explicit_path = getenv("LUNAL_CONFIG")) return *explicit_path;
  if (auto xdg = getenv("XDG_CONFIG_HOME")) return *xdg + "/lunal/config.yaml";
  if (auto home = getenv("HOME")) return *home + "/.config/lunal/config.yaml";
  return ".lunal/config.yaml";
}

Result<ClientConfig> LoadClientConfig(const ClientConfigInputs& inputs) {
  EnvLookup getenv = inputs.getenv ? inputs.getenv : EnvLookup(RealGetenv);
  ClientConfig config;
  config.source["api"] = "default";
  config.source["token"] = "default";
  LUNAL_RETURN_IF_ERROR(ApplyFile(ClientConfigPath(getenv), config));
  if (auto v = getenv("LUNAL_API")) {
    config.api = *v;
    config.source["api"] = "env:LUNAL_API";
  }
  if (auto v = getenv("LUNAL_TOKEN")) {
    config.token = *v;
    config.source["token"] = "env:LUNAL_TOKEN";
  }
  if (inputs.flag_api) {
    config.api = *inputs.flag_api;
    config.source["api"] = "flag:--api";
  }
  if (inputs.flag_token) {
    config.token = *inputs.flag_token;
    config.source["token"] = "flag:--token";
  }
  return config;
}

}  // namespace lunal::cli
