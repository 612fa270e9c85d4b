// Runs the built `lunald` binary: its conventions for flags, environment and the config file.
#include <gtest/gtest.h>

#include "lunal/common/json.h"
#include "lunal/testing/testing.h"

namespace lunal {
namespace {

testing::ProcessResult Lunald(std::vector<std::string> args, std::vector<std::string> env = {}) {
  args.insert(args.begin(), (testing::BinaryDir() / "src/lunald/lunald").string());
  testing::ProcessOptions options;
  options.env = std::move(env);
  return testing::RunProcess(args, options);
}

TEST(LunaldBinaryTest, VersionAndRoles) {
  auto v = Lunald({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("lunald 0.", 0), 0u) << v.out;
  auto help = Lunald({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* role : {"attestation", "build", "cds", "node", "gateway", "control", "dev"}) {
    EXPECT_NE(help.out.find(role), std::string::npos) << role;
  }
}

TEST(LunaldBinaryTest, AnUnbuiltRoleSaysSoInsteadOfPretending) {
  auto r = Lunald({"build", "--json"});
  EXPECT_EQ(r.exit_code, 2);
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  EXPECT_EQ((*j)["error"]["reason"], "lunald.role_unavailable");
}

TEST(LunaldBinaryTest, ConfigFileSectionsAreCheckedWithPositions) {
  testing::TempDir dir;
  testing::WriteFile(dir / "ok.yaml", "attestation:\n  listen: 127.0.0.1:0\ncds: {}\n");
  testing::WriteFile(dir / "typo.yaml", "attestation: {}\ncsd:\n  a: 1\n");
  testing::WriteFile(dir / "list.yaml", "- attestation\n");
  // A valid file gets as far as the role.
  EXPECT_NE(
      Lunald({"--config", (dir / "ok.yaml").string(), "build"}).err.find("lunald.role_unavailable"),
      std::string::npos);
  auto typo = Lunald({"--config", (dir / "typo.yaml").string(), "node"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("typo.yaml:2:1: unknown section \"csd\""), std::string::npos) << typo.err;
  EXPECT_NE(
      Lunald({"--config", (dir / "list.yaml").string(), "node"}).err.find("config.wrong_type"),
      std::string::npos);
  // The environment names the file too.
  auto from_env = Lunald({"node"}, {"LUNALD_CONFIG=" + (dir / "typo.yaml").string()});
  EXPECT_NE(from_env.err.find("config.unknown_key"), std::string::npos) << from_env.err;
}

TEST(LunaldBinaryTest, BadLogSettingsAreUsageErrors) {
  auto r = Lunald({"--log-level", "loud", "node"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--log-level: unknown log level \"loud\""), std::string::npos) << r.err;
  auto env = Lunald({"node"}, {"LUNALD_LOG_FORMAT=xml"});
  EXPECT_NE(env.err.find("log.bad_format"), std::string::npos) << env.err;
}

}  // namespace
}  // namespace lunal
