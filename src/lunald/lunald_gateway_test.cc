// Runs the built `lunald gateway` as an operator does, against a `lunald cds` process: the gateway
// enrols its attested identity (the allow-list names lunal/gateway with the SHA-256 of the lunald
// binary), a route is pushed through its admin API to an in-test mesh instance (certificate from
// the same CDS), a request through the public port reaches that instance over mesh mTLS, a wrong
// admin token is refused, and SIGTERM stops it cleanly.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "daemon_test_support.h"
#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/attest/tdx/event_log_lunal.h"
#include "lunal/cds/enroll.h"
#include "lunal/cds/manifest.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/common/json.h"
#include "lunal/common/time.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/dsse.h"
#include "lunal/crypto/keys.h"
#include "lunal/mesh/tls.h"
#include "lunal/net/client.h"
#include "lunal/net/errors.h"
#include "lunal/net/server.h"
#include "lunal/testing/testing.h"

namespace lunal {
namespace {

using lunald_testing::AllowEntry;
using lunald_testing::Daemon;
using lunald_testing::LunaldPath;
using lunald_testing::SignAllowList;

namespace fs = std::filesystem;

net::HttpResponse Send(const std::string& method, const std::string& url,
                       std::optional<std::string> token, std::string body = {}) {
  net::HttpClient client;
  net::HttpClientRequest request{.method = method, .url = url, .headers = {}, .body = body};
  if (token) request.headers.emplace_back("Authorization", "Bearer " + *token);
  auto r = client.Send(request);
  EXPECT_TRUE(r.ok()) << method << " " << url << ": " << r.error();
  return r.ok() ? *r : net::HttpResponse{.status = -1, .headers = {}, .body = {}};
}

TEST(LunaldGatewayTest, HelpShowsTheConfiguration) {
  auto r = testing::RunProcess({LunaldPath(), "gateway", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* needle : {"admin_token_file:", "cds_url:", "sim_root:", "hardware attester",
                             "sha256sum", "/v1/gateway/routes/{deployment}", "\"admin_url\""}) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle << " missing from:\n" << r.out;
  }
}

TEST(LunaldGatewayTest, ConfigurationErrorsNameTheirPlace) {
  testing::TempDir dir;
  testing::WriteFile(dir / "typo.yaml", "gateway:\n  cds_url: http://x\n  sim_rot: s\n");
  auto typo =
      testing::RunProcess({LunaldPath(), "--config", (dir / "typo.yaml").string(), "gateway"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("typo.yaml:3:3: gateway.sim_rot: unknown key"), std::string::npos)
      << typo.err;
  testing::WriteFile(dir / "nocds.yaml", "gateway:\n  sim_root: s\n  admin_token_file: t\n");
  auto nocds =
      testing::RunProcess({LunaldPath(), "--config", (dir / "nocds.yaml").string(), "gateway"});
  EXPECT_EQ(nocds.exit_code, 2);
  EXPECT_NE(nocds.err.find("gateway.cds_url: required"), std::string::npos) << nocds.err;
  // The admin token file must be private.
  testing::WriteFile(dir / "token", "secret\n");
  ::chmod((dir / "token").c_str(), 0644);
  testing::WriteFile(dir / "open.yaml",
                     "gateway:\n  cds_url: http://127.0.0.1:1\n  sim_root: sim\n"
                     "  admin_token_file: token\n");
  auto open = testing::RunProcess(
      {LunaldPath(), "--json", "--config", (dir / "open.yaml").string(), "gateway"});
  EXPECT_NE(open.exit_code, 0);
  EXPECT_EQ(ParseJson(open.out).value_or(Json())["error"]["reason"], "file.insecure_permissions")
      << open.out;
}

TEST(LunaldGatewayTest, ServesARoutePushedThroughItsAdminApi) {
  testing::TempDir dir;
  const Clock& clock = SystemClock::Instance();
  auto root = attest::sim::SimulationRoot::Open(dir / "sim", clock);
  ASSERT_TRUE(root.ok()) << root.error();

  // lunald cds, trusting the simulation root, with an allow-list naming the gateway (this lunald
  // binary's hash) and acme/api.
  auto op = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  testing::WriteFile(dir / "operator.pem", *(*op->PublicKey()).ToPem());
  testing::WriteFile(dir / "cds.yaml",
                     "cds:\n  state_dir: cds\n  operator_key: operator.pem\n"
                     "attestation:\n  trust_simulation_root: sim\n");
  Daemon cds({"--config", (dir / "cds.yaml").string(), "cds"}, dir / "cds.stderr");
  const Json cds_line = cds.FirstJson();
  ASSERT_TRUE(cds_line.contains("url")) << testing::ReadFileText(dir / "cds.stderr");
  const std::string cds_url = cds_line["url"];
  // What the gateway enrols with: "sha256:" + SHA-256 of its executable.
  auto lunald_bytes = ReadFile(LunaldPath(), {.max_bytes = std::size_t{1} << 30});
  ASSERT_TRUE(lunald_bytes.ok()) << lunald_bytes.error();
  const std::string lunald_hash = "sha256:" + HexEncode(crypto::Sha256(ToBytes(*lunald_bytes)));
  const std::string app_hash = "sha256:" + std::string(64, 'a');
  // First an allow-list that does not name the gateway: it refuses to start, and says which
  // build hash the operator must list.
  auto put = Send("PUT", cds_url + "/v1/cds/manifest", std::nullopt,
                  SignAllowList(*op, 1, Json::array({AllowEntry("acme", "api", app_hash)})));
  ASSERT_EQ(put.status, 200) << put.body;
  const std::string token = "lnl_gateway_admin_test_token";
  testing::WriteFile(dir / "admin-token", token + "\n");
  ASSERT_EQ(::chmod((dir / "admin-token").c_str(), 0600), 0);
  testing::WriteFile(dir / "gateway.yaml", "gateway:\n  cds_url: " + cds_url +
                                               "\n  sim_root: sim\n  admin_token_file: "
                                               "admin-token\n  threads: 2\n");
  auto unlisted = testing::RunProcess(
      {LunaldPath(), "--json", "--config", (dir / "gateway.yaml").string(), "gateway"});
  EXPECT_NE(unlisted.exit_code, 0);
  const Json unlisted_error = ParseJson(unlisted.out).value_or(Json());
  EXPECT_TRUE(unlisted_error["error"]["reason"].get<std::string>().starts_with("cds.allow_list."))
      << unlisted.out << unlisted.err;
  EXPECT_NE(unlisted.out.find(lunald_hash), std::string::npos) << unlisted.out;

  put = Send("PUT", cds_url + "/v1/cds/manifest", std::nullopt,
             SignAllowList(*op, 2,
                           Json::array({AllowEntry("lunal", "gateway", lunald_hash),
                                        AllowEntry("acme", "api", app_hash)})));
  ASSERT_EQ(put.status, 200) << put.body;

  // The instance: a sim-tdx TD running app_hash, enrolled at the same CDS, behind mesh TLS that
  // admits only the gateway.
  const auto image = crypto::Sha384(AsBytes("lunald gateway test instance"));
  auto attester =
      attest::sim::SimTdxAttester::Create(*root, {.mr_td = Bytes(image.begin(), image.end()),
                                                  .boot_measurements = {},
                                                  .mr_config_id = {},
                                                  .mr_owner = {},
                                                  .mr_owner_config = {}});
  ASSERT_TRUE(attester.ok()) << attester.error();
  auto event = attest::tdx::EncodeLunalEvent(
      {.type = attest::tdx::LunalEventType::kBuildHash, .value = app_hash});
  ASSERT_TRUE(event.ok());
  ASSERT_TRUE((*attester)->ExtendRtmr(3, crypto::Sha384(*event), *event).ok());
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  auto enrolment = cds::Enroll({.cds_url = cds_url,
                                .attester = attester->get(),
                                .key = &*key,
                                .tenant = "acme",
                                .deployment = "api",
                                .instance = "i-1",
                                .build_hash = app_hash});
  ASSERT_TRUE(enrolment.ok()) << enrolment.error();
  auto creds = mesh::MeshCredentials::Load(enrolment->certificate_pem, enrolment->key_pem);
  ASSERT_TRUE(creds.ok()) << creds.error();
  auto trust = mesh::MeshTrust::FromPem(enrolment->ca_pem, clock);
  ASSERT_TRUE(trust.ok()) << trust.error();
  auto tls = mesh::MeshServerTls(
      *creds, *trust,
      {.tenant = "lunal", .deployment = "gateway", .any_build = true, .allow_simulated = true});
  ASSERT_TRUE(tls.ok()) << tls.error();
  net::Router router;
  router.SetFallback([](net::HttpRequest& req) {
    auto peer = mesh::PeerIdentity(req);
    return net::HttpResponse::Json(
        200, {{"instance", "i-1"}, {"target", req.target}, {"peer", peer.ok() ? peer->Uri() : ""}});
  });
  net::ServerOptions options;
  options.tls = std::move(*tls);
  net::HttpServer instance(std::move(options), std::move(router));
  ASSERT_TRUE(instance.Start().ok());

  // lunald gateway.
  Daemon gw({"--config", (dir / "gateway.yaml").string(), "gateway"}, dir / "gateway.stderr");
  const Json line = gw.FirstJson();
  ASSERT_TRUE(line.contains("url") && line.contains("admin_url"))
      << line.dump() << testing::ReadFileText(dir / "gateway.stderr");
  const std::string url = line["url"], admin_url = line["admin_url"];
  EXPECT_TRUE(url.starts_with("http://127.0.0.1:")) << url;
  EXPECT_TRUE(admin_url.starts_with("http://127.0.0.1:")) << admin_url;

  const Json route = {
      {"tenant", "acme"},
      {"build_hashes", {app_hash}},
      {"allow_simulated", true},
      {"backends",
       {{{"instance_id", "i-1"}, {"address", "127.0.0.1:" + std::to_string(instance.port())}}}}};
  auto refused = Send("PUT", admin_url + "/v1/gateway/routes/api", "wrong-token", route.dump());
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(net::StatusFromErrorBody(refused.status, refused.body).reason(),
            "gateway.admin.unauthenticated");
  EXPECT_EQ(Send("GET", url + "/d/api/hello", std::nullopt).status, 404);  // nothing installed

  auto installed = Send("PUT", admin_url + "/v1/gateway/routes/api", token, route.dump());
  ASSERT_EQ(installed.status, 200) << installed.body;
  auto answer = Send("GET", url + "/d/api/hello?x=1", std::nullopt);
  ASSERT_EQ(answer.status, 200) << answer.body << testing::ReadFileText(dir / "gateway.stderr");
  const Json body = ParseJson(answer.body).value_or(Json());
  EXPECT_EQ(body["instance"], "i-1");
  EXPECT_EQ(body["target"], "/hello?x=1");
  EXPECT_EQ(body["peer"], "lunal://lunal/gateway/gateway-0");  // the gateway's enrolled identity
  EXPECT_EQ(answer.Header("X-Lunal-Instance").value_or(""), "i-1");

  EXPECT_EQ(gw.StopWith(SIGTERM), 0);
  EXPECT_EQ(cds.StopWith(SIGTERM), 0);
  instance.Stop(std::chrono::milliseconds(100));
  const std::string err = testing::ReadFileText(dir / "gateway.stderr");
  EXPECT_NE(err.find("gateway.stopped"), std::string::npos) << err;
  EXPECT_EQ(err.find(token), std::string::npos) << "the admin token must never be logged";
}

}  // namespace
}  // namespace lunal
