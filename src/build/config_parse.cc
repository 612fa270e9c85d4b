// ParseConfig: the lunal.config.yaml schema of docs/formats/lunal-config.md, read strictly with
// the shared YAML reader in its collecting mode so that one run lists every error.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>

#include "lunal/build/config.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"

// LUNAL_RETURN_IF_ERROR around a walk whose callbacks use it too (distinct names: no -Wshadow).
#define LUNAL_BUILD_WALK(expr) \
  if (Status walk_status_ = (expr); !walk_status_.ok()) return walk_status_

namespace lunal::build {
namespace {

using yaml::FieldPath;
using yaml::Reader;

constexpr std::array<std::string_view, 5> kTopKeys = {"runtime", "container", "hardware",
                                                      "autoscaling", "signing"};
constexpr std::array<std::string_view, 7> kRuntimeKeys = {
    "language", "version", "framework", "requirements", "entrypoint", "command", "port"};
constexpr std::array<std::string_view, 3> kContainerKeys = {"dockerfile", "context", "port"};
constexpr std::array<std::string_view, 3> kHardwareKeys = {"teeType", "vcpus", "memoryGiB"};
constexpr std::array<std::string_view, 6> kAutoscalingKeys = {
    "minInstances", "maxInstances", "regionScope", "scalingActionCooldownSecs",
    "regions",      "metrics"};
constexpr std::array<std::string_view, 4> kMetricKeys = {"type", "target", "targetMs",
                                                         "rollingWindowSecs"};
constexpr std::array<std::string_view, 2> kSigningKeys = {"required", "allowedSigners"};
constexpr std::array<std::string_view, 2> kSignerKeys = {"identity", "key"};

constexpr std::array<std::string_view, 4> kLanguages = {"python", "node", "go", "static"};
constexpr std::array<std::string_view, 3> kPythonFrameworks = {"flask", "fastapi", "django"};
constexpr std::array<std::string_view, 2> kNodeFrameworks = {"express", "next"};
constexpr std::array<std::string_view, 2> kTeeTypes = {"tdx", "snp"};
constexpr std::array<std::string_view, 2> kRegionScopes = {"global", "regional"};
constexpr std::array<std::string_view, 4> kMetricNames = {
    "cpuUtilizationPct", "memoryUtilizationPct", "responseLatencyMsP95", "requestsPerSecond"};
// OpenSSH key types an allowed_signers line may name (PROTOCOL.sshsig; RFC 8709, RFC 5656).
constexpr std::array<std::string_view, 5> kSshKeyTypes = {
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"};

struct MetricLimits {
  std::string_view key;  // "target" or "targetMs"
  std::uint32_t max;
};
MetricLimits LimitsFor(MetricType type) {
  switch (type) {
    case MetricType::kCpuUtilizationPct:
    case MetricType::kMemoryUtilizationPct:
      return {"target", 100};
    case MetricType::kResponseLatencyMsP95:
      return {"targetMs", 600000};  // ten minutes
    case MetricType::kRequestsPerSecond:
      return {"target", 10000000};
  }
  return {"target", 0};
}

std::string Join(std::span<const std::string_view> names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

// A value from a closed set, with a did-you-mean for near misses.
Result<std::string> OneOf(const Reader& r, const YAML::Node& node, const std::string& field,
                          std::span<const std::string_view> allowed, std::string_view what) {
  LUNAL_ASSIGN_OR_RETURN(std::string value, r.String(node, field));
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return value;
  std::optional<std::string_view> hint = yaml::ClosestName(value, allowed);
  return r.Error(r.Reason("bad_value"), node, field,
                 hint ? fmt::format("unknown {} \"{}\" (did you mean \"{}\"?); known: {}", what,
                                    value, *hint, Join(allowed))
                      : fmt::format("unknown {} \"{}\"; known: {}", what, value, Join(allowed)));
}

// A path inside the project: relative, no "..", not empty.
Result<std::string> ProjectPath(const Reader& r, const YAML::Node& node, const std::string& field) {
  LUNAL_ASSIGN_OR_RETURN(std::string text, r.String(node, field));
  const std::filesystem::path p(text);
  const bool escapes = std::any_of(p.begin(), p.end(), [](const auto& c) { return c == ".."; });
  if (text.empty() || p.is_absolute() || escapes || text.find('\0') != std::string::npos) {
    return r.Error(
        r.Reason("bad_value"), node, field,
        fmt::format("\"{}\" must be a relative path inside the project (no \"..\")", text));
  }
  return text;
}

// A version must be a quoted string: plain 3.10 is the number 3.1 to YAML.
Result<std::string> Version(const Reader& r, const YAML::Node& node, const std::string& field) {
  LUNAL_ASSIGN_OR_RETURN(std::string text, r.String(node, field));
  const bool numeric = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '.';
  });
  if (node.Tag() == "?" && numeric) {
    return r.Error(r.Reason("wrong_type"), node, field,
                   fmt::format("write the version as a quoted string, \"{}\": unquoted, YAML "
                               "reads it as a number (3.10 would be 3.1)",
                               text));
  }
  if (text.empty() || text.size() > 32) {
    return r.Error(r.Reason("bad_value"), node, field, "expected a version such as \"3.10\"");
  }
  return text;
}

class Parser {
 public:
  explicit Parser(Reader& r) : r_(r) {}

  Status Top(const YAML::Node& root, Config& out) {
    std::optional<YAML::Node> runtime_node, container_node;
    LUNAL_BUILD_WALK(r_.ForEachEntry(
        root, "", kTopKeys,
        [&](std::string_view key, const YAML::Node& v, const std::string& path) -> Status {
          if (key == "runtime") {
            runtime_node = v;
            out.runtime.emplace();
            return ParseRuntime(v, path, *out.runtime);
          }
          if (key == "container") {
            container_node = v;
            out.container.emplace();
            return ParseContainer(v, path, *out.container);
          }
          if (key == "hardware") return ParseHardware(v, path, out.hardware);
          if (key == "autoscaling") return ParseAutoscaling(v, path, out.autoscaling);
          return ParseSigning(v, path, out.signing);
        }));
    if (!runtime_node && !container_node) {
      return r_.Error(r_.Reason("missing_field"), root, "runtime",
                      "give either runtime (a language runtime) or container (a Dockerfile)");
    }
    if (runtime_node && container_node) {
      return r_.Error(r_.Reason("conflict"), *container_node, "container",
                      "give either runtime or container, not both");
    }
    return Status();
  }

 private:
  Status ParseRuntime(const YAML::Node& node, const std::string& field, Runtime& out) {
    std::optional<YAML::Node> framework_node, entry_node, command_node;
    bool has_language = false;
    LUNAL_BUILD_WALK(r_.ForEachEntry(
        node, field, kRuntimeKeys,
        [&](std::string_view key, const YAML::Node& v, const std::string& path) -> Status {
          if (key == "language") {
            LUNAL_ASSIGN_OR_RETURN(out.language, OneOf(r_, v, path, kLanguages, "language"));
            has_language = true;
          } else if (key == "version") {
            LUNAL_ASSIGN_OR_RETURN(out.version, Version(r_, v, path));
          } else if (key == "framework") {
            LUNAL_ASSIGN_OR_RETURN(out.framework, r_.String(v, path));
            framework_node = v;
          } else if (key == "requirements") {
            LUNAL_ASSIGN_OR_RETURN(out.requirements, ProjectPath(r_, v, path));
          } else if (key == "entrypoint") {
            LUNAL_ASSIGN_OR_RETURN(out.entrypoint, ProjectPath(r_, v, path));
            entry_node = v;
          } else if (key == "command") {
            command_node = v;
            return ParseCommand(v, path, out.command);
          } else {
            LUNAL_ASSIGN_OR_RETURN(std::uint64_t port, r_.UintInRange(v, path, 1, 65535));
            out.port = static_cast<std::uint32_t>(port);
          }
          return Status();
        }));
    if (!has_language) {
      // Reported only when the key is absent (a bad value was reported already).
      if (!node["language"]) {
        return r_.Error(r_.Reason("missing_field"), node, FieldPath(field, "language"),
                        fmt::format("runtime needs a language: {}", Join(kLanguages)));
      }
      return Status();
    }
    if (out.version.empty()) out.version = std::string(DefaultVersion(out.language));
    if (framework_node) {
      std::span<const std::string_view> allowed;
      if (out.language == "python") allowed = kPythonFrameworks;
      if (out.language == "node") allowed = kNodeFrameworks;
      if (allowed.empty()) {
        return r_.Error(r_.Reason("bad_value"), *framework_node, FieldPath(field, "framework"),
                        fmt::format("language {} takes no framework", out.language));
      }
      (void)OneOf(r_, *framework_node, FieldPath(field, "framework"), allowed,
                  fmt::format("{} framework", out.language));  // recorded when bad
    }
    if (entry_node && command_node) {
      return r_.Error(r_.Reason("conflict"), *command_node, FieldPath(field, "command"),
                      "give entrypoint or command, not both");
    }
    return Status();
  }

  Status ParseCommand(const YAML::Node& node, const std::string& field,
                      std::vector<std::string>& out) {
    if (!node.IsSequence()) {
      return r_.WrongType(node, field, "a list of strings (argv), e.g. [\"npm\", \"start\"]");
    }
    LUNAL_RETURN_IF_ERROR(
        r_.ForEachElement(node, field, [&](const YAML::Node& item, const std::string& at) {
          LUNAL_ASSIGN_OR_RETURN(std::string arg, r_.String(item, at));
          out.push_back(std::move(arg));
          return Status();
        }));
    if (out.empty()) return r_.Error(r_.Reason("bad_value"), node, field, "an empty command");
    return Status();
  }

  Status ParseContainer(const YAML::Node& node, const std::string& field, Container& out) {
    return r_.ForEachEntry(
        node, field, kContainerKeys,
        [&](std::string_view key, const YAML::Node& v, const std::string& path) -> Status {
          if (key == "dockerfile") {
            LUNAL_ASSIGN_OR_RETURN(out.dockerfile, ProjectPath(r_, v, path));
          } else if (key == "context") {
            LUNAL_ASSIGN_OR_RETURN(out.context, ProjectPath(r_, v, path));
          } else {
            LUNAL_ASSIGN_OR_RETURN(std::uint64_t port, r_.UintInRange(v, path, 1, 65535));
            out.port = static_cast<std::uint32_t>(port);
          }
          return Status();
        });
  }

  Status ParseHardware(const YAML::Node& node, const std::string& field, Hardware& out) {
    return r_.ForEachEntry(
        node, field, kHardwareKeys,
        [&](std::string_view key, const YAML::Node& v, const std::string& path) -> Status {
          if (key == "teeType") {
            LUNAL_ASSIGN_OR_RETURN(out.tee_type, OneOf(r_, v, path, kTeeTypes, "TEE type"));
          } else if (key == "vcpus") {
            LUNAL_ASSIGN_OR_RETURN(std::uint64_t n, r_.UintInRange(v, path, 1, kMaxVcpus));
            out.vcpus = static_cast<std::uint32_t>(n);
          } else {
            LUNAL_ASSIGN_OR_RETURN(std::uint64_t n, r_.UintInRange(v, path, 1, kMaxMemoryGiB));
            out.memory_gib = static_cast<std::uint32_t>(n);
          }
          return Status();
        });
  }

  Status ParseMetric(const YAML::Node& node, const std::string& field, Metric& out) {
    std::optional<MetricType> type;
    std::optional<std::uint64_t> target, target_ms;
    std::optional<YAML::Node> target_node, target_ms_node;
    LUNAL_BUILD_WALK(r_.ForEachEntry(
        node, field, kMetricKeys,
        [&](std::string_view key, const YAML::Node& v, const std::string& path) -> Status {
          if (key == "type") {
            LUNAL_ASSIGN_OR_RETURN(std::string name,
                                   OneOf(r_, v, path, kMetricNames, "metric type"));
            const auto it = std::find(kMetricNames.begin(), kMetricNames.end(), name);
            type = static_cast<MetricType>(it - kMetricNames.begin());
          } else if (key == "target") {
            LUNAL_ASSIGN_OR_RETURN(target, r_.Uint(v, path, UINT32_MAX));
            target_node = v;
          } else if (key == "targetMs") {
            LUNAL_ASSIGN_OR_RETURN(target_ms, r_.Uint(v, path, UINT32_MAX));
            target_ms_node = v;
          } else {
            LUNAL_ASSIGN_OR_RETURN(std::uint64_t secs,
                                   r_.UintInRange(v, path, 10, kMaxRollingWindowSecs));
            out.rolling_window_secs = static_cast<std::uint32_t>(secs);
          }
          return Status();
        }));
    if (!type) {
      if (node["type"]) return Status();  // its bad value was reported
      return r_.Error(r_.Reason("missing_field"), node, FieldPath(field, "type"),
                      fmt::format("a metric needs a type: {}", Join(kMetricNames)));
    }
    out.type = *type;
    const MetricLimits limits = LimitsFor(*type);
    const bool wants_ms = limits.key == "targetMs";
    const auto& given = wants_ms ? target_ms : target;
    const std::optional<YAML::Node>& given_node = wants_ms ? target_ms_node : target_node;
    const std::optional<YAML::Node>& other_node = wants_ms ? target_node : target_ms_node;
    if (other_node) {
      const std::string_view other = wants_ms ? "target" : "targetMs";
      return r_.Error(r_.Reason("bad_value"), *other_node, FieldPath(field, other),
                      fmt::format("{} takes {}, not {}", MetricTypeName(*type), limits.key, other));
    }
    if (!given) {
      return r_.Error(r_.Reason("missing_field"), node, FieldPath(field, limits.key),
                      fmt::format("{} needs {}", MetricTypeName(*type), limits.key));
    }
    if (*given < 1 || *given > limits.max) {
      return r_.Error(r_.Reason("bad_value"), *given_node, FieldPath(field, limits.key),
                      fmt::format("{} is out of range for {} (must be between 1 and {})", *given,
                                  MetricTypeName(*type), limits.max));
    }
    out.target = static_cast<std::uint32_t>(*given);
    return Status();
  }

  Status ParseRegions(const YAML::Node& node, const std::string& field,
                      std::vector<std::string>& out) {
    std::set<std::string, std::less<>> seen;
    return r_.ForEachElement(node, field, [&](const YAML::Node& item, const std::string& at) {
      LUNAL_ASSIGN_OR_RETURN(std::string region, r_.String(item, at));
      const bool valid = !region.empty() && region.size() <= 64 &&
                         std::all_of(region.begin(), region.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                         });
      if (!valid) {
        return r_.Error(r_.Reason("bad_value"), item, at,
                        fmt::format("\"{}\" is not a region name (lowercase letters, digits and "
                                    "hyphens, e.g. us-east-1)",
                                    region));
      }
      if (!seen.insert(region).second) {
        return r_.Error(r_.Reason("bad_value"), item, at,
                        fmt::format("region \"{}\" is listed twice", region));
      }
      out.push_back(std::move(region));
      return Status();
    });
  }

  Status ParseAutoscaling(const YAML::Node& node, const std::string& field, Autoscaling& out) {
    std::optional<YAML::Node> max_node, scope_node, regions_node;
    bool max_given = false;
    std::set<MetricType> metric_types;
    LUNAL_BUILD_WALK(r_.ForEachEntry(
        node, field, kAutoscalingKeys,
        [&](std::string_view key, const YAML::Node& v, const std::string& path) -> Status {
          if (key == "minInstances" || key == "maxInstances") {
            LUNAL_ASSIGN_OR_RETURN(
                std::uint64_t n,
                r_.UintInRange(v, path, key == "minInstances" ? 0 : 1, kMaxInstances));
            if (key == "minInstances") {
              out.min_instances = static_cast<std::uint32_t>(n);
            } else {
              out.max_instances = static_cast<std::uint32_t>(n);
              max_given = true;
              max_node = v;
            }
          } else if (key == "regionScope") {
            scope_node = v;
            LUNAL_ASSIGN_OR_RETURN(out.region_scope,
                                   OneOf(r_, v, path, kRegionScopes, "region scope"));
          } else if (key == "scalingActionCooldownSecs") {
            LUNAL_ASSIGN_OR_RETURN(std::uint64_t n, r_.Uint(v, path, kMaxCooldownSecs));
            out.scaling_action_cooldown_secs = static_cast<std::uint32_t>(n);
          } else if (key == "regions") {
            regions_node = v;
            return ParseRegions(v, path, out.regions);
          } else {
            return r_.ForEachElement(v, path, [&](const YAML::Node& item, const std::string& at) {
              Metric metric;
              LUNAL_RETURN_IF_ERROR(ParseMetric(item, at, metric));
              if (!metric_types.insert(metric.type).second) {
                return r_.Error(r_.Reason("bad_value"), item, at,
                                fmt::format("a second {} metric (give each type once)",
                                            MetricTypeName(metric.type)));
              }
              out.metrics.push_back(metric);
              return Status();
            });
          }
          return Status();
        }));
    if (!max_given) out.max_instances = std::max<std::uint32_t>(out.min_instances, 1);
    // The checks below each report, so that one run lists them all.
    Status status;
    if (max_given && out.min_instances > out.max_instances) {
      status = r_.Error(r_.Reason("bad_value"), *max_node, FieldPath(field, "maxInstances"),
                        fmt::format("maxInstances {} is below minInstances {}", out.max_instances,
                                    out.min_instances));
    }
    // Seed, section 4: "regions: required if [regionScope] is 'regional'".
    if (out.region_scope == "regional" && !regions_node) {
      status = r_.Error(r_.Reason("missing_field"), *scope_node, FieldPath(field, "regions"),
                        "regionScope regional needs regions: the regions to scale out in");
    }
    if (regions_node && regions_node->IsSequence() && regions_node->size() == 0) {
      status = r_.Error(r_.Reason("bad_value"), *regions_node, FieldPath(field, "regions"),
                        "list at least one region");
    }
    return status;
  }

  Status ParseSigner(const YAML::Node& node, const std::string& field, AllowedSigner& out) {
    LUNAL_BUILD_WALK(r_.ForEachEntry(
        node, field, kSignerKeys,
        [&](std::string_view key, const YAML::Node& v, const std::string& path) -> Status {
          if (key == "identity") {
            LUNAL_ASSIGN_OR_RETURN(out.identity, r_.String(v, path));
            if (out.identity.empty() || out.identity.find_first_of(" \t\n") != std::string::npos) {
              return r_.Error(r_.Reason("bad_value"), v, path,
                              "an identity is one word, e.g. dev@example.com");
            }
            return Status();
          }
          LUNAL_ASSIGN_OR_RETURN(out.key, r_.String(v, path));
          return CheckSshKey(v, path, out.key);
        }));
    for (std::string_view k : kSignerKeys) {
      if (!node[std::string(k)]) {
        return r_.Error(r_.Reason("missing_field"), node, FieldPath(field, k),
                        "an allowed signer needs identity and key");
      }
    }
    return Status();
  }

  // "keytype base64" where the blob's first string (RFC 4253 section 6.6) repeats the key type.
  Status CheckSshKey(const YAML::Node& node, const std::string& field, const std::string& text) {
    const std::size_t space = text.find(' ');
    const std::string type = text.substr(0, space);
    const auto bad = [&](std::string_view why) {
      return r_.Error(r_.Reason("bad_value"), node, field,
                      fmt::format("expected an OpenSSH public key \"<type> <base64>\" ({}): {}",
                                  Join(kSshKeyTypes), why));
    };
    if (std::find(kSshKeyTypes.begin(), kSshKeyTypes.end(), type) == kSshKeyTypes.end()) {
      return bad(fmt::format("unknown key type \"{}\"", type));
    }
    if (space == std::string::npos) return bad("no key data");
    std::string b64 = text.substr(space + 1);
    b64 = b64.substr(0, b64.find(' '));  // a trailing comment is allowed
    Result<Bytes> blob = Base64Decode(b64);
    if (!blob.ok()) return bad("the key data is not base64");
    if (blob->size() < 4 + type.size()) return bad("the key data is truncated");
    const std::size_t n = (std::size_t{(*blob)[0]} << 24) | (std::size_t{(*blob)[1]} << 16) |
                          (std::size_t{(*blob)[2]} << 8) | std::size_t{(*blob)[3]};
    if (n != type.size() ||
        !std::equal(type.begin(), type.end(), blob->begin() + 4,
                    [](char c, std::uint8_t b) { return static_cast<std::uint8_t>(c) == b; })) {
      return bad(fmt::format("the key data is not a {} key", type));
    }
    return Status();
  }

  Status ParseSigning(const YAML::Node& node, const std::string& field, Signing& out) {
    LUNAL_BUILD_WALK(r_.ForEachEntry(
        node, field, kSigningKeys,
        [&](std::string_view key, const YAML::Node& v, const std::string& path) -> Status {
          if (key == "required") {
            LUNAL_ASSIGN_OR_RETURN(out.required, r_.Bool(v, path));
            return Status();
          }
          return r_.ForEachElement(v, path, [&](const YAML::Node& item, const std::string& at) {
            AllowedSigner signer;
            LUNAL_RETURN_IF_ERROR(ParseSigner(item, at, signer));
            out.allowed_signers.push_back(std::move(signer));
            return Status();
          });
        }));
    if (out.required && !node["allowedSigners"]) {
      return r_.Error(r_.Reason("missing_field"), node, FieldPath(field, "allowedSigners"),
                      "required: true needs at least one allowed signer");
    }
    return Status();
  }

  Reader& r_;
};

}  // namespace

std::string_view MetricTypeName(MetricType type) {
  return kMetricNames[static_cast<std::size_t>(type)];
}

std::string_view DefaultVersion(std::string_view language) {
  // Debian 12 (bookworm): python3 3.11, nodejs 18, golang 1.19.
  if (language == "python") return "3.11";
  if (language == "node") return "18";
  if (language == "go") return "1.19";
  return "";
}

ConfigParse ParseConfig(std::string_view text, std::string_view source) {
  ConfigParse result;
  Reader reader(source, "config");
  reader.CollectErrors(&result.errors);
  Result<YAML::Node> root = reader.Load(text);
  if (!root.ok()) return result;  // recorded as config.syntax
  if (!root->IsDefined() || root->IsNull()) {
    (void)reader.ErrorAt("config.empty", YAML::Mark::null_mark(), "",
                         "the document is empty: give runtime or container");
    return result;
  }
  Parser parser(reader);
  // In collecting mode every error is in result.errors; a returned one is recorded as well.
  Status status = parser.Top(*root, result.config);
  (void)status;
  // Document order; errors without a position (none expected here) last.
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const yaml::Diagnostic& x, const yaml::Diagnostic& y) {
                     const auto key = [](const yaml::Diagnostic& d) {
                       return std::pair(d.line == 0 ? SIZE_MAX : d.line, d.column);
                     };
                     return key(x) < key(y);
                   });
  // A list of thousands of bad elements is one mistake repeated: show the first ones.
  if (result.errors.size() > kMaxConfigErrors) {
    const std::size_t more = result.errors.size() - kMaxConfigErrors;
    result.errors.resize(kMaxConfigErrors);
    result.errors.push_back(
        yaml::Diagnostic{.reason = "config.too_many_errors",
                         .source = std::string(source),
                         .line = 0,
                         .column = 0,
                         .field = "",
                         .message = fmt::format("{} more errors not shown", more)});
  }
  return result;
}

ConfigParse LoadConfigFile(const std::filesystem::path& path) {
  Result<std::optional<std::string>> text = ReadFileIfExists(
      path, {.max_bytes = kMaxConfigBytes, .require_private = false, .no_follow = false});
  if (!text.ok() || !text->has_value()) {
    ConfigParse result;
    const bool too_large = !text.ok() && text.error().reason() == "file.too_large";
    result.errors.push_back(yaml::Diagnostic{
        .reason = too_large ? "config.too_large" : "config.read_failed",
        .source = path.string(),
        .line = 0,
        .column = 0,
        .field = "",
        .message = !text.ok() ? text.error().message() : std::string("no such file")});
    return result;
  }
  return ParseConfig(**text, path.string());
}

}  // namespace lunal::build
