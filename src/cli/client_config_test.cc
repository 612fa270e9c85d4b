#include "lunal/cli/client_config.h"

#include <gtest/gtest.h>

#include <map>

#include "lunal/testing/testing.h"

namespace lunal::cli {
namespace {

using lunal::testing::TempDir;
using lunal::testing::WriteFile;

class ClientConfigTest : public ::testing::Test {
 protected:
  EnvLookup Env() {
    return [this](const char* name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }
  Result<ClientConfig> Load(std::optional<std::string> flag_api = std::nullopt) {
    return LoadClientConfig({.flag_api = flag_api, .flag_token = std::nullopt, .getenv = Env()});
  }
  TempDir dir_;
  std::map<std::string, std::string> env_{{"HOME", dir_.path().string()}};
};

TEST_F(ClientConfigTest, DefaultsWhenNothingIsSet) {
  auto c = Load();
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->api, "http://127.0.0.1:7000");
  EXPECT_EQ(c->token, "");
  EXPECT_EQ(c->source["api"], "default");
  EXPECT_EQ(ClientConfigPath(Env()), (dir_.path() / ".config/lunal/config.yaml").string());
}

TEST_F(ClientConfigTest, PrecedenceFlagOverEnvOverFile) {
  std::filesystem::create_directories(dir_.path() / ".config/lunal");
  WriteFile(dir_.path() / ".config/lunal/config.yaml", "api: http://file:1\ntoken: from-file\n");
  auto from_file = Load();
  ASSERT_TRUE(from_file.ok()) << from_file.error();
  EXPECT_EQ(from_file->api, "http://file:1");
  EXPECT_EQ(from_file->token, "from-file");
  EXPECT_EQ(from_file->source["token"].rfind("file:", 0), 0u);

  env_["LUNAL_API"] = "http://env:2";
  auto from_env = Load();
  EXPECT_EQ(from_env->api, "http://env:2");
  EXPECT_EQ(from_env->source["api"], "env:LUNAL_API");
  EXPECT_EQ(from_env->token, "from-file");

  auto from_flag = Load("http://flag:3");
  EXPECT_EQ(from_flag->api, "http://flag:3");
  EXPECT_EQ(from_flag->source["api"], "flag:--api");
}

TEST_F(ClientConfigTest, XdgAndExplicitPath) {
  env_["XDG_CONFIG_HOME"] = "/xdg";
  EXPECT_EQ(ClientConfigPath(Env()), "/xdg/lunal/config.yaml");
  env_["LUNAL_CONFIG"] = "/explicit.yaml";
  EXPECT_EQ(ClientConfigPath(Env()), "/explicit.yaml");
}

TEST_F(ClientConfigTest, UnknownKeyNamesFileLineAndColumn) {
  auto path = dir_ / "c.yaml";
  env_["LUNAL_CONFIG"] = path.string();
  WriteFile(path, "api: http://x\n  \ntokn: abc\n");
  auto c = Load();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().reason(), "config.unknown_key");
  EXPECT_EQ(c.error().message(),
            path.string() + ":3:1: unknown key \"tokn\" (known keys: api, token)");
}

TEST_F(ClientConfigTest, SyntaxAndTypeErrors) {
  auto path = dir_ / "c.yaml";
  env_["LUNAL_CONFIG"] = path.string();
  WriteFile(path, "api: [unclosed\n");
  EXPECT_EQ(Load().error().reason(), "config.yaml_syntax");
  WriteFile(path, "api:\n  nested: map\n");
  auto wrong = Load();
  EXPECT_EQ(wrong.error().reason(), "config.wrong_type");
  EXPECT_NE(wrong.error().message().find(":2:3:"), std::string::npos) << wrong.error();
  WriteFile(path, "- a list\n");
  EXPECT_EQ(Load().error().reason(), "config.wrong_type");
  WriteFile(path, "");
  EXPECT_TRUE(Load().ok());
}

}  // namespace
}  // namespace lunal::cli
