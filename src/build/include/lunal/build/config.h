// lunal.config.yaml: the project configuration a developer commits beside their code
// (docs/formats/lunal-config.md). Keys and the autoscaling defaults follow Lunal's "Deploy
// TEE-secured code" guide (seeds/004, sections 2 "Deployment Configuration" and 4 "Autoscaling").
//
// Contract:
//   - ParseConfig reads the document strictly and reports EVERY error it finds, each with the
//     file, 1-based line and column, the field path ("autoscaling.metrics[1].targetMs") and a
//     stable reason: config.syntax, config.encoding, config.empty, config.wrong_type,
//     config.unknown_key (with a did-you-mean suggestion), config.duplicate_key, config.bad_value,
//     config.missing_field, config.conflict, config.read_failed, config.too_large,
//     config.too_many_errors (after kMaxConfigErrors errors).
//   - A document that parses is complete: every optional key holds its default.
//   - ToYaml / ToJson print the effective configuration; ParseConfig(ToYaml(c)) == c.
// Plain values; thread-compatible. No file outside the one named is read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/json.h"
#include "lunal/yaml/reader.h"

namespace lunal::build {

// Defaults. rollingWindowSecs is the seed's ("Default is 300 seconds, or 5 minutes"); the others
// are ours, documented in docs/formats/lunal-config.md.
inline constexpr std::uint32_t kDefaultPort = 8080;
inline constexpr std::uint32_t kDefaultRollingWindowSecs = 300;
inline constexpr std::uint32_t kDefaultCooldownSecs = 60;
inline constexpr std::uint32_t kDefaultMinInstances = 1;
inline constexpr std::uint32_t kDefaultVcpus = 2;
inline constexpr std::uint32_t kDefaultMemoryGiB = 4;
// Limits.
inline constexpr std::uint32_t kMaxInstances = 1000;
inline constexpr std::uint32_t kMaxVcpus = 64;
inline constexpr std::uint32_t kMaxMemoryGiB = 512;
inline constexpr std::uint32_t kMaxRollingWindowSecs = 86400;
inline constexpr std::uint32_t kMaxCooldownSecs = 86400;
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;
inline constexpr std::size_t kMaxConfigErrors = 100;  // then config.too_many_errors

struct Runtime {
  std::string language{};      // python | node | go | static
  std::string version{};       // e.g. "3.10"; default per language (see DefaultVersion)
  std::string framework{};     // python: flask | fastapi | django; node: express | next; else empty
  std::string requirements{};  // dependency file, relative to the project root; may be empty
  std::string entrypoint{};    // file or module the platform starts; may be empty
  std::vector<std::string> command{};  // explicit start command (argv); excludes entrypoint
  std::uint32_t port = kDefaultPort;
  bool operator==(const Runtime&) const = default;
};

struct Container {
  std::string dockerfile = "Dockerfile";  // relative to the project root
  std::string context = ".";
  std::uint32_t port = kDefaultPort;
  bool operator==(const Container&) const = default;
};

struct Hardware {
  std::string tee_type = "tdx";  // key teeType: tdx | snp
  std::uint32_t vcpus = kDefaultVcpus;
  std::uint32_t memory_gib = kDefaultMemoryGiB;  // key memoryGiB
  bool operator==(const Hardware&) const = default;
};

// The seed's four metric types (section 4 "Scaling Metrics").
enum class MetricType {
  kCpuUtilizationPct,
  kMemoryUtilizationPct,
  kResponseLatencyMsP95,
  kRequestsPerSecond
};
std::string_view MetricTypeName(MetricType type);

struct Metric {
  MetricType type = MetricType::kCpuUtilizationPct;
  // `target` for the percentage and rate metrics, `targetMs` for responseLatencyMsP95.
  std::uint32_t target = 0;
  std::uint32_t rolling_window_secs = kDefaultRollingWindowSecs;
  bool operator==(const Metric&) const = default;
};

struct Autoscaling {
  std::uint32_t min_instances = kDefaultMinInstances;
  std::uint32_t max_instances = kDefaultMinInstances;  // default: minInstances (no scaling)
  std::string region_scope = "global";                 // global | regional
  std::vector<std::string> regions{};                  // required when regional
  std::uint32_t scaling_action_cooldown_secs = kDefaultCooldownSecs;
  std::vector<Metric> metrics{};
  bool operator==(const Autoscaling&) const = default;
};

// One allowed signer, as an OpenSSH allowed_signers line has it: "identity keytype base64".
struct AllowedSigner {
  std::string identity{};  // e.g. "dev@example.com"
  std::string key{};       // "ssh-ed25519 AAAA..."
  bool operator==(const AllowedSigner&) const = default;
};

struct Signing {
  bool required = false;  // a deployment must carry a developer signature by an allowed signer
  std::vector<AllowedSigner> allowed_signers{};
  bool operator==(const Signing&) const = default;
};

struct Config {
  std::optional<Runtime> runtime{};  // exactly one of runtime and container
  std::optional<Container> container{};
  Hardware hardware{};
  Autoscaling autoscaling{};
  Signing signing{};
  bool operator==(const Config&) const = default;
};

// The version a language gets when none is given: the toolchain of the Debian 12 build image.
std::string_view DefaultVersion(std::string_view language);

struct ConfigParse {
  Config config{};                         // meaningful only when ok()
  std::vector<yaml::Diagnostic> errors{};  // every error, in document order
  bool ok() const { return errors.empty(); }
};

// Parses `text`; `source` names it in errors (a file name).
ConfigParse ParseConfig(std::string_view text, std::string_view source);
// Reads and parses a file (at most kMaxConfigBytes).
ConfigParse LoadConfigFile(const std::filesystem::path& path);

// The effective configuration, every default filled in. ToYaml starts with `header` (each line
// already a "# ..." comment, or empty).
std::string ToYaml(const Config& config, std::string_view header = "");
Json ToJson(const Config& config);

}  // namespace lunal::build
