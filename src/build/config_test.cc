// ParseConfig: the seed's examples and their defaults, the printers' round trip, and a table of
// real-looking documents with one planted error each, asserting reason, line, column, field and
// the did-you-mean suggestion.
#include "lunal/build/config.h"

#include <gtest/gtest.h>

#include "lunal/testing/testing.h"

namespace lunal::build {
namespace {

std::filesystem::path Testdata(std::string_view name) {
  return lunal::testing::SourceDir() / "src/build/testdata/config" / name;
}

std::string ErrorsOf(const ConfigParse& p) {
  std::string out;
  for (const auto& d : p.errors) out += d.ToString() + " [" + d.reason + "]\n";
  return out;
}

TEST(ConfigTest, SeedRuntimeExampleGetsItsDefaults) {
  ConfigParse p = LoadConfigFile(Testdata("seed-runtime.yaml"));
  ASSERT_TRUE(p.ok()) << ErrorsOf(p);
  ASSERT_TRUE(p.config.runtime.has_value());
  EXPECT_FALSE(p.config.container.has_value());
  const Runtime& rt = *p.config.runtime;
  EXPECT_EQ(rt.language, "python");
  EXPECT_EQ(rt.version, "3.10");
  EXPECT_EQ(rt.framework, "flask");
  EXPECT_EQ(rt.requirements, "requirements.txt");
  EXPECT_EQ(rt.port, 8080u);
  EXPECT_EQ(p.config.hardware, Hardware{});
  EXPECT_EQ(p.config.hardware.tee_type, "tdx");
  // No autoscaling section: one instance, global, no metrics.
  EXPECT_EQ(p.config.autoscaling.min_instances, 1u);
  EXPECT_EQ(p.config.autoscaling.max_instances, 1u);
  EXPECT_EQ(p.config.autoscaling.region_scope, "global");
  EXPECT_EQ(p.config.autoscaling.scaling_action_cooldown_secs, 60u);
  EXPECT_TRUE(p.config.autoscaling.metrics.empty());
  EXPECT_FALSE(p.config.signing.required);
}

TEST(ConfigTest, SeedAutoscalingExampleReadsAsWritten) {
  ConfigParse p = LoadConfigFile(Testdata("seed-autoscaling.yaml"));
  ASSERT_TRUE(p.ok()) << ErrorsOf(p);
  const Autoscaling& a = p.config.autoscaling;
  EXPECT_EQ(a.min_instances, 1u);
  EXPECT_EQ(a.max_instances, 100u);
  EXPECT_EQ(a.region_scope, "global");
  EXPECT_EQ(a.scaling_action_cooldown_secs, 60u);
  EXPECT_EQ(a.regions, (std::vector<std::string>{"us-east-1", "eu-west-1"}));
  ASSERT_EQ(a.metrics.size(), 4u);
  // Seed: "Default is 300 seconds" where rollingWindowSecs is not given.
  EXPECT_EQ(a.metrics[0], (Metric{MetricType::kCpuUtilizationPct, 70, 300}));
  EXPECT_EQ(a.metrics[1], (Metric{MetricType::kMemoryUtilizationPct, 80, 300}));
  EXPECT_EQ(a.metrics[2], (Metric{MetricType::kResponseLatencyMsP95, 500, 300}));
  EXPECT_EQ(a.metrics[3], (Metric{MetricType::kRequestsPerSecond, 1000, 60}));
}

TEST(ConfigTest, MaxInstancesDefaultsToMinInstances) {
  ConfigParse p = ParseConfig("runtime: {language: go}\nautoscaling:\n  minInstances: 3\n", "x");
  ASSERT_TRUE(p.ok()) << ErrorsOf(p);
  EXPECT_EQ(p.config.autoscaling.max_instances, 3u);
  EXPECT_EQ(p.config.runtime->version, "1.19");  // DefaultVersion("go")
}

TEST(ConfigTest, EveryKeyRoundTripsThroughYamlAndJson) {
  ConfigParse p = LoadConfigFile(Testdata("full.yaml"));
  ASSERT_TRUE(p.ok()) << ErrorsOf(p);
  EXPECT_EQ(p.config.runtime->command, (std::vector<std::string>{"node", "server.js"}));
  EXPECT_EQ(p.config.hardware.memory_gib, 16u);
  ASSERT_EQ(p.config.signing.allowed_signers.size(), 1u);
  EXPECT_EQ(p.config.signing.allowed_signers[0].identity, "dev@example.com");
  for (const char* name : {"full.yaml", "seed-autoscaling.yaml", "seed-runtime.yaml"}) {
    ConfigParse original = LoadConfigFile(Testdata(name));
    ASSERT_TRUE(original.ok()) << name;
    const std::string yaml = ToYaml(original.config, "# header\n");
    ConfigParse again = ParseConfig(yaml, "printed.yaml");
    ASSERT_TRUE(again.ok()) << ErrorsOf(again) << yaml;
    EXPECT_EQ(again.config, original.config) << yaml;
  }
  const Json j = ToJson(p.config);
  EXPECT_EQ(j["runtime"]["port"], 3000);
  EXPECT_EQ(j["autoscaling"]["metrics"][0]["targetMs"], 250);
  EXPECT_FALSE(j["autoscaling"]["metrics"][0].contains("target"));
  EXPECT_EQ(j["autoscaling"]["regions"][0], "us-east-1");
  EXPECT_EQ(j["hardware"]["teeType"], "snp");
  EXPECT_EQ(j["signing"]["required"], true);
}

TEST(ConfigTest, PrintedStringsThatLookLikeOtherTypesAreQuoted) {
  Config c;
  c.runtime = Runtime{.language = "python", .version = "3.10", .entrypoint = "yes"};
  const std::string yaml = ToYaml(c);
  EXPECT_NE(yaml.find("  version: \"3.10\"\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("  entrypoint: \"yes\"\n"), std::string::npos) << yaml;
}

// A real-looking config with one planted error.
struct Planted {
  const char* name;
  const char* text;
  const char* reason;
  std::size_t line;
  std::size_t column;
  const char* field;
  const char* hint;  // the did-you-mean, or nullptr for none
};

std::vector<Planted> PlantedErrors() {
  return {
      {"UnknownTopKey", "runtime:\n  language: go\nautoscalling:\n  minInstances: 1\n",
       "config.unknown_key", 3, 1, "autoscalling", "autoscaling"},
      {"UnknownRuntimeKey", "runtime:\n  language: python\n  framwork: flask\n",
       "config.unknown_key", 3, 3, "runtime.framwork", "framework"},
      {"UnknownMetricKey",
       "runtime: {language: go}\nautoscaling:\n  metrics:\n    - type: cpuUtilizationPct\n"
       "      target: 70\n      rollingWindowSec: 60\n",
       "config.unknown_key", 6, 7, "autoscaling.metrics[0].rollingWindowSec", "rollingWindowSecs"},
      {"UnknownKeyFarFromAny", "runtime:\n  language: go\n  colour: blue\n", "config.unknown_key",
       3, 3, "runtime.colour", nullptr},
      {"LanguageTypo", "runtime:\n  language: pyhton\n", "config.bad_value", 2, 13,
       "runtime.language", "python"},
      {"FrameworkForOtherLanguage", "runtime:\n  language: node\n  framework: flask\n",
       "config.bad_value", 3, 14, "runtime.framework", nullptr},
      {"FrameworkTypo", "runtime:\n  language: node\n  framework: expres\n", "config.bad_value", 3,
       14, "runtime.framework", "express"},
      {"UnquotedVersion", "runtime:\n  language: python\n  version: 3.10\n", "config.wrong_type", 3,
       12, "runtime.version", nullptr},
      {"PortZero", "runtime:\n  language: go\n  port: 0\n", "config.bad_value", 3, 9,
       "runtime.port", nullptr},
      {"PortTooLarge", "container:\n  port: 65536\n", "config.bad_value", 2, 9, "container.port",
       nullptr},
      {"PortQuoted", "runtime:\n  language: go\n  port: \"8080\"\n", "config.wrong_type", 3, 9,
       "runtime.port", nullptr},
      {"PathEscapes", "runtime:\n  language: python\n  requirements: ../secrets.txt\n",
       "config.bad_value", 3, 17, "runtime.requirements", nullptr},
      {"AbsoluteDockerfile", "container:\n  dockerfile: /etc/Dockerfile\n", "config.bad_value", 2,
       15, "container.dockerfile", nullptr},
      {"EntrypointAndCommand",
       "runtime:\n  language: python\n  entrypoint: app.py\n  command: [gunicorn, app:app]\n",
       "config.conflict", 4, 12, "runtime.command", nullptr},
      {"CommandAsString", "runtime:\n  language: node\n  command: npm start\n", "config.wrong_type",
       3, 12, "runtime.command", nullptr},
      {"RuntimeAndContainer", "runtime:\n  language: go\ncontainer:\n  port: 80\n",
       "config.conflict", 4, 3, "container", nullptr},
      {"NeitherRuntimeNorContainer", "hardware:\n  vcpus: 2\n", "config.missing_field", 1, 1,
       "runtime", nullptr},
      {"MissingLanguage", "runtime:\n  version: \"3.10\"\n", "config.missing_field", 2, 3,
       "runtime.language", nullptr},
      {"TeeTypeTypo", "container: {}\nhardware:\n  teeType: tdxx\n", "config.bad_value", 3, 12,
       "hardware.teeType", "tdx"},
      {"ZeroVcpus", "container: {}\nhardware:\n  vcpus: 0\n", "config.bad_value", 3, 10,
       "hardware.vcpus", nullptr},
      {"TooMuchMemory", "container: {}\nhardware:\n  memoryGiB: 4096\n", "config.bad_value", 3, 14,
       "hardware.memoryGiB", nullptr},
      {"NegativeMemory", "container: {}\nhardware:\n  memoryGiB: -4\n", "config.wrong_type", 3, 14,
       "hardware.memoryGiB", nullptr},
      {"MinAboveMax",
       "runtime: {language: go}\nautoscaling:\n  minInstances: 5\n  maxInstances: 2\n",
       "config.bad_value", 4, 17, "autoscaling.maxInstances", nullptr},
      {"RegionalWithoutRegions",
       "runtime: {language: go}\nautoscaling:\n  maxInstances: 4\n  regionScope: regional\n",
       "config.missing_field", 4, 16, "autoscaling.regions", nullptr},
      {"RegionScopeTypo", "runtime: {language: go}\nautoscaling:\n  regionScope: globl\n",
       "config.bad_value", 3, 16, "autoscaling.regionScope", "global"},
      {"BadRegionName",
       "runtime: {language: go}\nautoscaling:\n  regionScope: regional\n  regions:\n"
       "    - US East\n",
       "config.bad_value", 5, 7, "autoscaling.regions[0]", nullptr},
      {"DuplicateRegion",
       "runtime: {language: go}\nautoscaling:\n  regionScope: regional\n  regions: [us-east-1, "
       "us-east-1]\n",
       "config.bad_value", 4, 24, "autoscaling.regions[1]", nullptr},
      {"MetricTypeTypo",
       "runtime: {language: go}\nautoscaling:\n  metrics:\n    - type: cpuUtilisationPct\n"
       "      target: 70\n",
       "config.bad_value", 4, 13, "autoscaling.metrics[0].type", "cpuUtilizationPct"},
      {"CpuTargetAbove100",
       "runtime: {language: go}\nautoscaling:\n  metrics:\n    - type: cpuUtilizationPct\n"
       "      target: 170\n",
       "config.bad_value", 5, 15, "autoscaling.metrics[0].target", nullptr},
      {"LatencyWithTarget",
       "runtime: {language: go}\nautoscaling:\n  metrics:\n    - type: responseLatencyMsP95\n"
       "      target: 500\n",
       "config.bad_value", 5, 15, "autoscaling.metrics[0].target", nullptr},
      {"MetricWithoutTarget",
       "runtime: {language: go}\nautoscaling:\n  metrics:\n    - type: requestsPerSecond\n",
       "config.missing_field", 4, 7, "autoscaling.metrics[0].target", nullptr},
      {"MetricWithoutType", "runtime: {language: go}\nautoscaling:\n  metrics:\n    - target: 5\n",
       "config.missing_field", 4, 7, "autoscaling.metrics[0].type", nullptr},
      {"RollingWindowTooShort",
       "runtime: {language: go}\nautoscaling:\n  metrics:\n    - type: cpuUtilizationPct\n"
       "      target: 70\n      rollingWindowSecs: 1\n",
       "config.bad_value", 6, 26, "autoscaling.metrics[0].rollingWindowSecs", nullptr},
      {"SameMetricTwice",
       "runtime: {language: go}\nautoscaling:\n  metrics:\n    - type: cpuUtilizationPct\n"
       "      target: 70\n    - type: cpuUtilizationPct\n      target: 50\n",
       "config.bad_value", 6, 7, "autoscaling.metrics[1]", nullptr},
      {"CooldownFloat", "runtime: {language: go}\nautoscaling:\n  scalingActionCooldownSecs: 1.5\n",
       "config.wrong_type", 3, 30, "autoscaling.scalingActionCooldownSecs", nullptr},
      {"Yaml11Boolean", "container: {}\nsigning:\n  required: yes\n", "config.wrong_type", 3, 13,
       "signing.required", nullptr},
      {"DuplicateKey", "runtime:\n  language: go\n  port: 80\n  port: 81\n", "config.duplicate_key",
       4, 3, "runtime.port", nullptr},
      {"NullValue", "runtime:\n  language: go\n  version:\n", "config.wrong_type", 3, 3,
       "runtime.version", nullptr},
      {"ListForMapping", "runtime:\n  - language: go\n", "config.wrong_type", 2, 3, "runtime",
       nullptr},
      {"RequiredWithoutSigners", "container: {}\nsigning:\n  required: true\n",
       "config.missing_field", 3, 3, "signing.allowedSigners", nullptr},
      {"SignerKeyNotSsh",
       "container: {}\nsigning:\n  allowedSigners:\n    - identity: dev@example.com\n"
       "      key: rsa AAAA\n",
       "config.bad_value", 5, 12, "signing.allowedSigners[0].key", nullptr},
      {"SignerKeyTypeMismatch",
       "container: {}\nsigning:\n  allowedSigners:\n    - identity: dev@example.com\n"
       "      key: ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
       "config.bad_value", 5, 12, "signing.allowedSigners[0].key", nullptr},
      {"SyntaxError", "runtime:\n  language: [go\n", "config.syntax", 3, 1, "", nullptr},
      {"TabsAreSyntaxErrors", "runtime:\n\tlanguage: go\n", "config.syntax", 2, 10, "",
       nullptr},  // where yaml-cpp reports it
  };
}

class PlantedErrorTest : public ::testing::TestWithParam<Planted> {};

TEST_P(PlantedErrorTest, IsReportedWithReasonPositionFieldAndHint) {
  const Planted& d = GetParam();
  ConfigParse p = ParseConfig(d.text, "lunal.config.yaml");
  ASSERT_EQ(p.errors.size(), 1u) << ErrorsOf(p) << "in:\n" << d.text;
  const yaml::Diagnostic& e = p.errors[0];
  EXPECT_EQ(e.reason, d.reason) << e.ToString();
  EXPECT_EQ(e.line, d.line) << e.ToString();
  EXPECT_EQ(e.column, d.column) << e.ToString();
  EXPECT_EQ(e.field, d.field) << e.ToString();
  EXPECT_EQ(e.source, "lunal.config.yaml");
  if (d.hint != nullptr) {
    EXPECT_NE(e.message.find(std::string("did you mean \"") + d.hint + "\"?"), std::string::npos)
        << e.message;
  } else {
    EXPECT_EQ(e.message.find("did you mean"), std::string::npos) << e.message;
  }
  EXPECT_EQ(e.ToString().rfind(std::string("lunal.config.yaml:") + std::to_string(d.line) + ":" +
                                   std::to_string(d.column) + ": ",
                               0),
            0u)
      << e.ToString();
}

INSTANTIATE_TEST_SUITE_P(Table, PlantedErrorTest, ::testing::ValuesIn(PlantedErrors()),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(ConfigTest, EveryErrorOfADocumentIsListedInOrder) {
  ConfigParse p = LoadConfigFile(Testdata("broken.yaml"));
  ASSERT_EQ(p.errors.size(), 6u) << ErrorsOf(p);
  const std::vector<std::tuple<std::size_t, std::size_t, std::string, std::string>> want = {
      {4, 12, "runtime.version", "config.wrong_type"},
      {5, 3, "runtime.framwork", "config.unknown_key"},
      {6, 9, "runtime.port", "config.bad_value"},
      {9, 17, "autoscaling.maxInstances", "config.bad_value"},
      {10, 16, "autoscaling.regions", "config.missing_field"},
      {12, 13, "autoscaling.metrics[0].type", "config.bad_value"},
  };
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto& [line, column, field, reason] = want[i];
    EXPECT_EQ(p.errors[i].line, line) << i;
    EXPECT_EQ(p.errors[i].column, column) << i;
    EXPECT_EQ(p.errors[i].field, field) << i;
    EXPECT_EQ(p.errors[i].reason, reason) << i;
    EXPECT_EQ(p.errors[i].source, Testdata("broken.yaml").string());
  }
}

TEST(ConfigTest, EmptyMissingAndOversizedFiles) {
  for (const char* text : {"", "# nothing\n", "~\n"}) {
    ConfigParse p = ParseConfig(text, "empty.yaml");
    ASSERT_EQ(p.errors.size(), 1u) << text;
    EXPECT_EQ(p.errors[0].reason, "config.empty");
  }
  lunal::testing::TempDir dir;
  ConfigParse missing = LoadConfigFile(dir / "absent.yaml");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].reason, "config.read_failed");
  lunal::testing::WriteFile(dir / "big.yaml", std::string(kMaxConfigBytes + 1, '#'));
  ConfigParse big = LoadConfigFile(dir / "big.yaml");
  ASSERT_EQ(big.errors.size(), 1u);
  EXPECT_EQ(big.errors[0].reason, "config.too_large");
}

TEST(ConfigTest, ErrorsAreCappedWithACount) {
  std::string text = "container: {}\nautoscaling:\n  regionScope: regional\n  regions:\n";
  for (int i = 0; i < 150; ++i) text += "    - Bad_Region\n";
  ConfigParse p = ParseConfig(text, "many.yaml");
  ASSERT_EQ(p.errors.size(), kMaxConfigErrors + 1);
  EXPECT_EQ(p.errors[0].line, 5u);
  EXPECT_EQ(p.errors.back().reason, "config.too_many_errors");
  EXPECT_EQ(p.errors.back().message, "50 more errors not shown");
}

TEST(ConfigTest, DeepNestingIsASyntaxErrorNotACrash) {
  ConfigParse p = ParseConfig(std::string(100000, '['), "deep.yaml");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].reason, "config.syntax");
}

}  // namespace
}  // namespace lunal::build
