// Runs the built `lunald attestation` as a user does: --help, configuration errors, the URL line
// on stdout, auth over real HTTP, and a graceful stop on SIGTERM / SIGINT.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "daemon_test_support.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "lunal/crypto/digest.h"
#include "lunal/net/client.h"
#include "lunal/testing/testing.h"

namespace lunal {
namespace {

using lunald_testing::Daemon;
using lunald_testing::LunaldPath;

testing::ProcessResult Lunald(std::vector<std::string> args) {
  args.insert(args.begin(), LunaldPath());
  return testing::RunProcess(args);
}

int Get(const std::string& url, std::optional<std::string> token, Json* body = nullptr) {
  net::HttpClient client;
  net::HttpClientRequest request{.method = "GET", .url = url};
  if (token) request.headers.emplace_back("Authorization", "Bearer " + *token);
  auto r = client.Send(request);
  if (!r.ok()) return -1;
  if (body != nullptr) *body = ParseJson(r->body).value_or(Json());
  return r->status;
}

TEST(LunaldAttestationTest, HelpTeachesWithAnExampleConfiguration) {
  auto r = Lunald({"attestation", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* needle :
       {"--insecure-no-auth", "token_sha256", "sha256sum", "collateral:", "trust_simulation_root",
        "attester:", "{\"url\"", "SIGTERM", "/v1/attestation/verify"}) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle << " missing from:\n" << r.out;
  }
}

TEST(LunaldAttestationTest, RefusesToStartWithoutAuthOrWithABadConfig) {
  auto no_auth = Lunald({"attestation", "--json"});
  EXPECT_EQ(no_auth.exit_code, 2);
  EXPECT_EQ(ParseJson(no_auth.out).value_or(Json())["error"]["reason"], "attest.service.no_auth")
      << no_auth.out;
  testing::TempDir dir;
  testing::WriteFile(dir / "typo.yaml", "attestation:\n  listen: 127.0.0.1:0\n  lisen: x\n");
  auto typo = Lunald({"--config", (dir / "typo.yaml").string(), "attestation"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("typo.yaml:3:3: attestation.lisen: unknown key"), std::string::npos)
      << typo.err;
}

TEST(LunaldAttestationTest, ServesWithTokensPrintsItsUrlAndStopsOnSigterm) {
  testing::TempDir dir;
  const std::string token = "lnl_binary_test_token";
  testing::WriteFile(dir / "lunald.yaml",
                     "attestation:\n  listen: 127.0.0.1:0\n  auth:\n    token_sha256: [" +
                         HexEncode(crypto::Sha256(AsBytes(token))) +
                         "]\n  token: {key_dir: keys}\n");
  Daemon d({"--config", (dir / "lunald.yaml").string(), "attestation"}, dir / "stderr");
  const std::string line = d.FirstLine();
  auto json = ParseJson(line);
  ASSERT_TRUE(json.ok()) << "first stdout line: " << line << "\n"
                         << testing::ReadFileText(dir / "stderr");
  const std::string url = (*json)["url"];
  EXPECT_TRUE(url.starts_with("http://127.0.0.1:")) << url;
  EXPECT_EQ(Get(url + "/healthz", std::nullopt), 200);
  EXPECT_EQ(Get(url + "/.well-known/jwks.json", std::nullopt), 200);
  EXPECT_EQ(Get(url + "/metrics", std::nullopt), 401);
  EXPECT_EQ(Get(url + "/metrics", "wrong"), 401);
  EXPECT_EQ(Get(url + "/metrics", token), 200);
  // key_dir is relative to the configuration file, and holds the published key.
  EXPECT_TRUE(std::filesystem::exists(dir / "keys" / "keyring.json"));
  EXPECT_EQ(d.StopWith(SIGTERM), 0);
  const std::string err = testing::ReadFileText(dir / "stderr");
  EXPECT_NE(err.find("attestation.stopped"), std::string::npos) << err;
  EXPECT_EQ(err.find(token), std::string::npos) << "the token must never be logged";
}

TEST(LunaldAttestationTest, InsecureNoAuthWarnsAtStartAndOnHealthzAndStopsOnSigint) {
  testing::TempDir dir;
  Daemon d({"attestation", "--insecure-no-auth"}, dir / "stderr");
  auto json = ParseJson(d.FirstLine());
  ASSERT_TRUE(json.ok()) << testing::ReadFileText(dir / "stderr");
  const std::string url = (*json)["url"];
  Json health;
  EXPECT_EQ(Get(url + "/healthz", std::nullopt, &health), 200);
  EXPECT_EQ(health["auth"], "disabled");
  EXPECT_EQ(Get(url + "/metrics", std::nullopt), 200);
  EXPECT_EQ(d.StopWith(SIGINT), 0);
  const std::string err = testing::ReadFileText(dir / "stderr");
  EXPECT_NE(err.find("attestation.auth_disabled"), std::string::npos) << err;
  EXPECT_NE(err.find("--insecure-no-auth"), std::string::npos) << err;
}

}  // namespace
}  // namespace lunal
