// InstanceSpec (instance.h): the JSON the node writes at kSpecPath, parsed strictly: unknown
// members, wrong types and missing required members are node.spec.bad_field.
#include <limits>
#include <set>
#include <string>

#include "lunal/node/instance.h"

namespace lunal::node {
namespace {

Status BadField(std::string_view field, std::string_view why) {
  return Malformed("node.spec.bad_field", "{}: {}", field, why);
}

class Reader {
 public:
  explicit Reader(const Json& json) : json_(json) {}

  Status String(std::string_view name, std::string& out, bool required) {
    if (!json_.contains(std::string(name))) return required ? BadField(name, "required") : Status();
    const Json& v = json_[std::string(name)];
    if (!v.is_string()) return BadField(name, "expected a string");
    out = v.get<std::string>();
    if (required && out.empty()) return BadField(name, "must not be empty");
    return Status();
  }
  Status Bool(std::string_view name, bool& out) {
    if (!json_.contains(std::string(name))) return Status();
    const Json& v = json_[std::string(name)];
    if (!v.is_boolean()) return BadField(name, "expected a boolean");
    out = v.get<bool>();
    return Status();
  }
  Status Int(std::string_view name, std::int64_t& out, std::int64_t min, std::int64_t max,
             bool required) {
    if (!json_.contains(std::string(name))) return required ? BadField(name, "required") : Status();
    const Json& v = json_[std::string(name)];
    if (!v.is_number_integer()) return BadField(name, "expected an integer");
    const auto n = v.get<std::int64_t>();
    if (n < min || n > max) return BadField(name, fmt::format("must be in {}..{}", min, max));
    out = n;
    return Status();
  }
  Status Port(std::string_view name, std::uint16_t& out, bool required) {
    std::int64_t n = out;
    LUNAL_RETURN_IF_ERROR(Int(name, n, required ? 1 : 0, 65535, required));
    out = static_cast<std::uint16_t>(n);
    return Status();
  }
  Status Strings(std::string_view name, std::vector<std::string>& out) {
    if (!json_.contains(std::string(name))) return BadField(name, "required");
    const Json& v = json_[std::string(name)];
    if (!v.is_array() || v.empty()) return BadField(name, "expected a non-empty array of strings");
    for (const Json& s : v) {
      if (!s.is_string() || s.get<std::string>().empty()) {
        return BadField(name, "expected a non-empty array of non-empty strings");
      }
      out.push_back(s.get<std::string>());
    }
    return Status();
  }
  Status Env(std::string_view name, std::map<std::string, std::string>& out) {
    if (!json_.contains(std::string(name))) return Status();
    const Json& v = json_[std::string(name)];
    if (!v.is_object()) return BadField(name, "expected an object of strings");
    for (const auto& [key, value] : v.items()) {
      if (key.empty() || key.find('=') != std::string::npos || !value.is_string()) {
        return BadField(name, fmt::format("'{}': expected NAME (no '=') to a string", key));
      }
      out[key] = value.get<std::string>();
    }
    return Status();
  }

 private:
  const Json& json_;
};

}  // namespace

Result<InstanceSpec> ParseInstanceSpec(const Json& json) {
  if (!json.is_object()) return BadField("(document)", "expected an object");
  static const std::set<std::string, std::less<>> kKnown = {"tenant",
                                                            "deployment",
                                                            "instance_id",
                                                            "build_hash",
                                                            "cds_url",
                                                            "cds_ca_pem",
                                                            "gateway_tenant",
                                                            "gateway_deployment",
                                                            "allow_simulated_peers",
                                                            "listen_port",
                                                            "app_port",
                                                            "app_dir",
                                                            "command",
                                                            "env",
                                                            "device",
                                                            "drain_ms",
                                                            "app_grace_ms",
                                                            "health_path",
                                                            "health_interval_ms",
                                                            "health_timeout_ms",
                                                            "health_failures",
                                                            "listen_fd",
                                                            "cds_via_device"};
  for (const auto& [key, value] : json.items()) {
    if (!kKnown.contains(key)) return BadField(key, "unknown member");
  }
  InstanceSpec spec;
  Reader r(json);
  LUNAL_RETURN_IF_ERROR(r.String("tenant", spec.tenant, true));
  LUNAL_RETURN_IF_ERROR(r.String("deployment", spec.deployment, true));
  LUNAL_RETURN_IF_ERROR(r.String("instance_id", spec.instance_id, true));
  LUNAL_RETURN_IF_ERROR(r.String("build_hash", spec.build_hash, true));
  LUNAL_RETURN_IF_ERROR(r.String("cds_url", spec.cds_url, true));
  LUNAL_RETURN_IF_ERROR(r.String("cds_ca_pem", spec.cds_ca_pem, true));
  LUNAL_RETURN_IF_ERROR(r.String("gateway_tenant", spec.gateway_tenant, false));
  LUNAL_RETURN_IF_ERROR(r.String("gateway_deployment", spec.gateway_deployment, false));
  LUNAL_RETURN_IF_ERROR(r.Bool("allow_simulated_peers", spec.allow_simulated_peers));
  LUNAL_RETURN_IF_ERROR(r.Port("listen_port", spec.listen_port, false));
  LUNAL_RETURN_IF_ERROR(r.Port("app_port", spec.app_port, true));
  LUNAL_RETURN_IF_ERROR(r.String("app_dir", spec.app_dir, false));
  LUNAL_RETURN_IF_ERROR(r.Strings("command", spec.command));
  LUNAL_RETURN_IF_ERROR(r.Env("env", spec.env));
  LUNAL_RETURN_IF_ERROR(r.String("device", spec.device, false));
  constexpr std::int64_t kHour = 3'600'000;
  LUNAL_RETURN_IF_ERROR(r.Int("drain_ms", spec.drain_ms, 0, kHour, false));
  LUNAL_RETURN_IF_ERROR(r.Int("app_grace_ms", spec.app_grace_ms, 0, kHour, false));
  LUNAL_RETURN_IF_ERROR(r.Int("listen_fd", spec.listen_fd, -1, 1'000'000, false));
  LUNAL_RETURN_IF_ERROR(r.Bool("cds_via_device", spec.cds_via_device));
  LUNAL_RETURN_IF_ERROR(r.String("health_path", spec.health_path, false));
  LUNAL_RETURN_IF_ERROR(r.Int("health_interval_ms", spec.health_interval_ms, 0, kHour, false));
  LUNAL_RETURN_IF_ERROR(r.Int("health_timeout_ms", spec.health_timeout_ms, 1, kHour, false));
  LUNAL_RETURN_IF_ERROR(r.Int("health_failures", spec.health_failures, 1, 100, false));
  if (!spec.health_path.starts_with('/') ||
      spec.health_path.find_first_of(" \r\n\t#") != std::string::npos) {
    return BadField("health_path", "must be a path starting with '/' (no spaces or fragment)");
  }
  if (spec.gateway_tenant.empty()) return BadField("gateway_tenant", "must not be empty");
  if (spec.app_dir.empty()) return BadField("app_dir", "must not be empty");
  if (spec.device.empty()) return BadField("device", "must not be empty");
  if (spec.listen_port != 0 && spec.listen_port == spec.app_port) {
    return BadField("listen_port", "must differ from app_port");
  }
  return spec;
}

Json ToJson(const InstanceSpec& spec) {
  return Json{{"tenant", spec.tenant},
              {"deployment", spec.deployment},
              {"instance_id", spec.instance_id},
              {"build_hash", spec.build_hash},
              {"cds_url", spec.cds_url},
              {"cds_ca_pem", spec.cds_ca_pem},
              {"gateway_tenant", spec.gateway_tenant},
              {"gateway_deployment", spec.gateway_deployment},
              {"allow_simulated_peers", spec.allow_simulated_peers},
              {"listen_port", spec.listen_port},
              {"app_port", spec.app_port},
              {"app_dir", spec.app_dir},
              {"command", spec.command},
              {"env", spec.env},
              {"device", spec.device},
              {"drain_ms", spec.drain_ms},
              {"app_grace_ms", spec.app_grace_ms},
              {"health_path", spec.health_path},
              {"health_interval_ms", spec.health_interval_ms},
              {"health_timeout_ms", spec.health_timeout_ms},
              {"health_failures", spec.health_failures},
              {"listen_fd", spec.listen_fd},
              {"cds_via_device", spec.cds_via_device}};
}

}  // namespace lunal::node
