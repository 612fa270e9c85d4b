// Runs the built `lunald cds`: --help, configuration errors with positions, and a start that
// bootstraps the state folder (master key 0600, database) and prints its URL and CA fingerprint.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "lunal/common/json.h"
#include "lunal/crypto/keys.h"
#include "lunal/testing/testing.h"

namespace lunal {
namespace {

testing::ProcessResult Lunald(std::vector<std::string> args,
                              std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  args.insert(args.begin(), (testing::BinaryDir() / "src/lunald/lunald").string());
  testing::ProcessOptions options;
  options.timeout = timeout;
  return testing::RunProcess(args, options);
}

TEST(LunaldCdsTest, HelpShowsTheConfiguration) {
  auto r = Lunald({"cds", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("operator_key:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/v1/cds/certificates"), std::string::npos);
}

TEST(LunaldCdsTest, ConfigurationErrorsNameTheirPlace) {
  testing::TempDir dir;
  auto none = Lunald({"cds", "--json"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.out.find("config.missing_field"), std::string::npos) << none.out;
  testing::WriteFile(dir / "typo.yaml", "cds:\n  state_dir: s\n  operatr_key: k.pem\n");
  auto typo = Lunald({"--config", (dir / "typo.yaml").string(), "cds"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("typo.yaml:3:3: cds.operatr_key: unknown key"), std::string::npos)
      << typo.err;
  testing::WriteFile(dir / "nokey.yaml", "cds:\n  state_dir: s\n");
  auto nokey = Lunald({"--config", (dir / "nokey.yaml").string(), "cds"});
  EXPECT_NE(nokey.err.find("operator_key: required"), std::string::npos) << nokey.err;
}

TEST(LunaldCdsTest, StartsBootstrapsAndPrintsItsUrl) {
  testing::TempDir dir;
  auto op = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  testing::WriteFile(dir / "operator.pem", *(*op->PublicKey()).ToPem());
  testing::WriteFile(dir / "lunald.yaml",
                     "cds:\n  state_dir: state\n  operator_key: operator.pem\n"
                     "  auth: {operator_token_sha256: [" +
                         std::string(64, 'a') + "]}\n");
  // Killed after 3 s; by then it has printed its line.
  auto r = Lunald({"--config", (dir / "lunald.yaml").string(), "cds"}, std::chrono::seconds(3));
  const auto line = r.out.substr(0, r.out.find('\n'));
  auto j = ParseJson(line);
  ASSERT_TRUE(j.ok()) << r.out << r.err;
  EXPECT_TRUE((*j)["url"].get<std::string>().starts_with("http://127.0.0.1:"));
  EXPECT_EQ((*j)["ca_sha256"].get<std::string>().size(), 64u);
  struct stat info {};
  ASSERT_EQ(::stat((dir / "state" / "master.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_TRUE(std::filesystem::exists(dir / "state" / "cds.db"));
}

}  // namespace
}  // namespace lunal
