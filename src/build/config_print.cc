// ToYaml / ToJson: the effective lunal.config.yaml with every default filled in, in the key order
// of docs/formats/lunal-config.md, so that printing is deterministic and re-parses to the same
// Config.
#include <fmt/format.h>

#include <algorithm>

#include "lunal/build/config.h"

namespace lunal::build {
namespace {

// A string as YAML: plain when that cannot change its meaning, else double-quoted (a JSON string
// is a valid YAML double-quoted scalar).
std::string Scalar(std::string_view s, bool force_quotes = false) {
  constexpr std::string_view kSpecial[] = {"true", "false", "yes", "no", "on",
                                           "off",  "null",  "~",   "y",  "n"};
  const bool safe_chars = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '/' || c == '-' || c == '@';
  });
  const bool starts_ok = safe_chars && ((s[0] >= 'a' && s[0] <= 'z') ||
                                        (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_' || s[0] == '/');
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  const bool special =
      std::find(std::begin(kSpecial), std::end(kSpecial), lower) != std::end(kSpecial);
  if (!force_quotes && starts_ok && !special) return std::string(s);
  return Json(std::string(s)).dump();
}

std::string List(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const auto& i : items) quoted.push_back(Scalar(i, true));
  return fmt::format("[{}]", fmt::join(quoted, ", "));
}

}  // namespace

std::string ToYaml(const Config& c, std::string_view header) {
  std::string out(header);
  if (c.runtime) {
    const Runtime& r = *c.runtime;
    out += "runtime:\n";
    out += fmt::format("  language: {}\n", Scalar(r.language));
    if (!r.version.empty()) out += fmt::format("  version: {}\n", Scalar(r.version, true));
    if (!r.framework.empty()) out += fmt::format("  framework: {}\n", Scalar(r.framework));
    if (!r.requirements.empty()) {
      out += fmt::format("  requirements: {}\n", Scalar(r.requirements));
    }
    if (!r.entrypoint.empty()) out += fmt::format("  entrypoint: {}\n", Scalar(r.entrypoint));
    if (!r.command.empty()) out += fmt::format("  command: {}\n", List(r.command));
    out += fmt::format("  port: {}\n", r.port);
  }
  if (c.container) {
    out += "container:\n";
    out += fmt::format("  dockerfile: {}\n", Scalar(c.container->dockerfile));
    out += fmt::format("  context: {}\n", Scalar(c.container->context));
    out += fmt::format("  port: {}\n", c.container->port);
  }
  out += "hardware:\n";
  out += fmt::format("  teeType: {}\n", Scalar(c.hardware.tee_type));
  out += fmt::format("  vcpus: {}\n", c.hardware.vcpus);
  out += fmt::format("  memoryGiB: {}\n", c.hardware.memory_gib);
  const Autoscaling& a = c.autoscaling;
  out += "autoscaling:\n";
  out += fmt::format("  minInstances: {}\n", a.min_instances);
  out += fmt::format("  maxInstances: {}\n", a.max_instances);
  out += fmt::format("  regionScope: {}\n", Scalar(a.region_scope));
  out += fmt::format("  scalingActionCooldownSecs: {}\n", a.scaling_action_cooldown_secs);
  if (!a.regions.empty()) {
    out += "  regions:\n";
    for (const auto& region : a.regions) out += fmt::format("    - {}\n", Scalar(region));
  }
  if (!a.metrics.empty()) {
    out += "  metrics:\n";
    for (const Metric& m : a.metrics) {
      out += fmt::format("    - type: {}\n", MetricTypeName(m.type));
      out += fmt::format("      {}: {}\n",
                         m.type == MetricType::kResponseLatencyMsP95 ? "targetMs" : "target",
                         m.target);
      out += fmt::format("      rollingWindowSecs: {}\n", m.rolling_window_secs);
    }
  }
  out += "signing:\n";
  out += fmt::format("  required: {}\n", c.signing.required ? "true" : "false");
  if (!c.signing.allowed_signers.empty()) {
    out += "  allowedSigners:\n";
    for (const auto& s : c.signing.allowed_signers) {
      out += fmt::format("    - identity: {}\n", Scalar(s.identity, true));
      out += fmt::format("      key: {}\n", Scalar(s.key, true));
    }
  }
  return out;
}

Json ToJson(const Config& c) {
  Json j = Json::object();
  if (c.runtime) {
    const Runtime& r = *c.runtime;
    Json rt = {{"language", r.language}, {"port", r.port}};
    if (!r.version.empty()) rt["version"] = r.version;
    if (!r.framework.empty()) rt["framework"] = r.framework;
    if (!r.requirements.empty()) rt["requirements"] = r.requirements;
    if (!r.entrypoint.empty()) rt["entrypoint"] = r.entrypoint;
    if (!r.command.empty()) rt["command"] = r.command;
    j["runtime"] = rt;
  }
  if (c.container) {
    j["container"] = {{"dockerfile", c.container->dockerfile},
                      {"context", c.container->context},
                      {"port", c.container->port}};
  }
  j["hardware"] = {{"teeType", c.hardware.tee_type},
                   {"vcpus", c.hardware.vcpus},
                   {"memoryGiB", c.hardware.memory_gib}};
  const Autoscaling& a = c.autoscaling;
  Json metrics = Json::array();
  for (const Metric& m : a.metrics) {
    metrics.push_back(
        {{"type", MetricTypeName(m.type)},
         {m.type == MetricType::kResponseLatencyMsP95 ? "targetMs" : "target", m.target},
         {"rollingWindowSecs", m.rolling_window_secs}});
  }
  j["autoscaling"] = {{"minInstances", a.min_instances},
                      {"maxInstances", a.max_instances},
                      {"regionScope", a.region_scope},
                      {"regions", a.regions},
                      {"scalingActionCooldownSecs", a.scaling_action_cooldown_secs},
                      {"metrics", metrics}};
  Json signers = Json::array();
  for (const auto& s : c.signing.allowed_signers) {
    signers.push_back({{"identity", s.identity}, {"key", s.key}});
  }
  j["signing"] = {{"required", c.signing.required}, {"allowedSigners", signers}};
  return j;
}

}  // namespace lunal::build
