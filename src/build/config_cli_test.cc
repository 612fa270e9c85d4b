// `lunal config validate` and `lunal init` through the built binary: output, --json, exit codes.
#include <gtest/gtest.h>

#include "lunal/common/json.h"
#include "lunal/testing/testing.h"

namespace lunal {
namespace {

using testing::ProcessResult;
using testing::RunProcess;

ProcessResult Lunal(std::vector<std::string> args) {
  args.insert(args.begin(), (testing::BinaryDir() / "src/cli/lunal").string());
  return RunProcess(args);
}

std::string Testdata(std::string_view path) {
  return (testing::SourceDir() / "src/build/testdata" / path).string();
}

TEST(ConfigValidateBinaryTest, ValidFilePrintsTheEffectiveConfig) {
  auto r = Lunal({"config", "validate", Testdata("config/seed-runtime.yaml")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(": valid\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  version: \"3.10\"\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  minInstances: 1\n"), std::string::npos) << r.out;  // a default
}

TEST(ConfigValidateBinaryTest, ValidFileAsJson) {
  auto r = Lunal({"config", "validate", Testdata("config/seed-autoscaling.yaml"), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  EXPECT_EQ((*j)["valid"], true);
  EXPECT_EQ((*j)["config"]["autoscaling"]["metrics"][1]["rollingWindowSecs"], 300);
}

TEST(ConfigValidateBinaryTest, EveryPlantedErrorIsListedWithLineAndColumn) {
  const std::string file = Testdata("config/broken.yaml");
  auto r = Lunal({"config", "validate", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  for (const std::string& line : {
           file + ":4:12: runtime.version: write the version as a quoted string",
           file + ":5:3: runtime.framwork: unknown key \"framwork\" (did you mean \"framework\"?)",
           file + ":6:9: runtime.port: 0 is out of range",
           file + ":9:17: autoscaling.maxInstances: maxInstances 2 is below minInstances 5",
           file + ":10:16: autoscaling.regions: regionScope regional needs regions",
           file + ":12:13: autoscaling.metrics[0].type: unknown metric type "
                  "\"cpuUtilisationPct\" (did you mean \"cpuUtilizationPct\"?)",
       }) {
    EXPECT_NE(r.err.find("error: " + line), std::string::npos) << line << "\nin:\n" << r.err;
  }
  EXPECT_NE(r.err.find(": invalid (6 errors)\n"), std::string::npos) << r.err;
}

TEST(ConfigValidateBinaryTest, ErrorsAsJson) {
  auto r = Lunal({"config", "validate", Testdata("config/broken.yaml"), "--json"});
  EXPECT_EQ(r.exit_code, 1);
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  EXPECT_EQ((*j)["valid"], false);
  ASSERT_EQ((*j)["errors"].size(), 6u);
  const Json& e = (*j)["errors"][1];
  EXPECT_EQ(e["reason"], "config.unknown_key");
  EXPECT_EQ(e["line"], 5);
  EXPECT_EQ(e["column"], 3);
  EXPECT_EQ(e["field"], "runtime.framwork");
}

TEST(ConfigValidateBinaryTest, DefaultFileMissingAndUsage) {
  testing::TempDir dir;
  testing::ProcessOptions options;
  options.cwd = dir.path();
  auto missing = RunProcess(
      {(testing::BinaryDir() / "src/cli/lunal").string(), "config", "validate"}, options);
  EXPECT_EQ(missing.exit_code, 5);
  EXPECT_EQ(missing.err, "error: lunal.config.yaml: no such file [config.read_failed]\n");
  testing::WriteFile(dir / "lunal.config.yaml", "container: {}\n");
  auto found = RunProcess({(testing::BinaryDir() / "src/cli/lunal").string(), "config", "validate"},
                          options);
  EXPECT_EQ(found.exit_code, 0) << found.err;
  EXPECT_EQ(Lunal({"config"}).exit_code, 2);
  EXPECT_EQ(Lunal({"config", "validate", "a.yaml", "b.yaml"}).exit_code, 2);
}

TEST(InitBinaryTest, PrintsTheSuggestionWithReasons) {
  auto r = Lunal({"init", Testdata("detect/flask-app")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("#   requirements.txt: lists flask (line 2) -> runtime.framework: flask\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("runtime:\n  language: python\n  version: \"3.10\"\n  framework: flask\n"),
            std::string::npos)
      << r.out;
}

TEST(InitBinaryTest, JsonListsReasons) {
  auto r = Lunal({"init", Testdata("detect/go-service"), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  EXPECT_EQ((*j)["config"]["runtime"]["language"], "go");
  EXPECT_EQ((*j)["config"]["runtime"]["entrypoint"], "cmd/api");
  EXPECT_EQ((*j)["reasons"][0]["file"], "go.mod");
  EXPECT_FALSE(j->contains("written"));
}

TEST(InitBinaryTest, WriteCreatesTheFileOnceAndItValidates) {
  testing::TempDir dir;
  testing::WriteFile(dir / "package.json", R"({"dependencies": {"express": "4"}})");
  testing::WriteFile(dir / "index.js", "\n");
  auto first = Lunal({"init", dir.path().string(), "--write"});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  const std::string written = testing::ReadFileText(dir / "lunal.config.yaml");
  EXPECT_EQ(written, first.out);
  EXPECT_NE(written.find("  framework: express\n  requirements: package.json\n  entrypoint: "
                         "index.js\n"),
            std::string::npos)
      << written;
  auto valid = Lunal({"config", "validate", (dir / "lunal.config.yaml").string()});
  EXPECT_EQ(valid.exit_code, 0) << valid.err;

  auto second = Lunal({"init", dir.path().string(), "--write", "--json"});
  EXPECT_EQ(second.exit_code, 1);
  auto j = ParseJson(second.out);
  ASSERT_TRUE(j.ok()) << second.out;
  EXPECT_EQ((*j)["error"]["reason"], "init.exists");
  EXPECT_EQ(testing::ReadFileText(dir / "lunal.config.yaml"), written);  // untouched
}

TEST(InitBinaryTest, NothingToDetect) {
  testing::TempDir dir;
  auto r = Lunal({"init", dir.path().string()});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("[detect.nothing_found]"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lunal
