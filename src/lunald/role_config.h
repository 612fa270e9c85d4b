// Reading one role's section of lunald's --config file (`cds:`, `gateway:`, `node:`, …), so that
// every role reports a bad value the same way: "file:line:column: role.field: message", with the
// stable reasons config.read_failed, config.missing_field, config.wrong_type, config.bad_value
// and config.unknown_key. Relative paths resolve against the file's folder.
#pragma once

#include <signal.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/net/server.h"

namespace lunal::lunald {

// Blocks SIGTERM and SIGINT in the calling thread (and the threads it starts afterwards), so that
// a role's main thread can sigwait() for them: call first thing in a role's entry.
sigset_t BlockStopSignals();

// Waits (sigwait) for one of the signals BlockStopSignals blocked, then logs "<role>.stopping"
// with its name: the point where a role's main thread turns to stopping what it started.
void WaitForStopSignal(const sigset_t& stop_signals, std::string_view role);

// What a role started without --config answers: config.missing_field, naming its section.
Status NeedsConfig(std::string_view role);

// A server's on_internal_error for a role: logs `event` (e.g. "node.internal_error") at error
// level with the request's path and the status.
net::InternalErrorHook LogInternalError(std::string event);

// The mesh identity a platform role enrols as (docs/protocols/platform-mesh.md): the config keys
// `tenant`, `deployment`, `instance` of the gateway, node and control sections.
struct RoleIdentity {
  std::string tenant;
  std::string deployment;
  std::string instance;
};

// "scheme://host:port" for a listening address, an IPv6 literal in brackets (RFC 3986 §3.2.2):
// what each role prints once it serves.
std::string ServiceUrl(std::string_view scheme, std::string_view host, std::uint16_t port);

class RoleSection {
 public:
  // The file's `role:` mapping. Errors: config.read_failed (unreadable or not YAML),
  // config.missing_field (no such mapping).
  static Result<RoleSection> Load(const std::string& file, std::string_view role);

  const YAML::Node& node() const { return node_; }
  const std::string& file() const { return file_; }

  // An error at `at` naming `field` of this role.
  Status Error(const YAML::Node& at, std::string_view field, std::string_view message,
               std::string reason = "config.bad_value") const;
  // The section itself lacks `field`: config.missing_field.
  Status Missing(std::string_view field) const;

  Result<std::uint64_t> Number(const YAML::Node& v, std::string_view field, std::uint64_t min,
                               std::uint64_t max) const;
  Result<std::string> Text(const YAML::Node& v, std::string_view field) const;  // non-empty
  Result<std::filesystem::path> Path(const YAML::Node& v, std::string_view field) const;
  // An http(s) URL (net::ParseUrl), its trailing slashes dropped so that paths append to it.
  Status Url(const YAML::Node& v, std::string_view field, std::string& out) const;
  // "host:port" or "[v6]:port", port 0..65535 (0: ephemeral).
  Status Listen(const YAML::Node& v, std::string_view field, std::string& host,
                std::uint16_t& port) const;
  // When `key` is one of RoleIdentity's keys, reads `v` into it and answers true; else false.
  Result<bool> IdentityKey(const YAML::Node& v, std::string_view key, RoleIdentity& id) const;

 private:
  RoleSection(std::string file, std::string role, YAML::Node node)
      : file_(std::move(file)), role_(std::move(role)), node_(std::move(node)) {}
  std::string file_, role_;
  YAML::Node node_;
};

}  // namespace lunal::lunald
