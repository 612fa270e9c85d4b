// Runs the built `lunald gateway` as an operator does, against a `lunald cds` process: the gateway
// enrols its attested identity (the allow-list names lunal/gateway with the SHA-256 of the lunald
// binary), a route is pushed through its admin API to an in-test mesh instance (certificate from
// the same CDS), a request through the public port reaches that instance over mesh mTLS. The admin
// API is mesh mTLS too: only a lunal/control certificate gets in (the test plays the control plane
// with a TD of its own); no certificate, or an instance's, fails the handshake. SIGTERM stops it.
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
                       const net::ClientTlsOptions& tls = {}, std::string body = {}) {
  net::HttpClient client({.tls = tls});
  auto r = client.Send({.method = method, .url = url, .headers = {}, .body = std::move(body)});
  EXPECT_TRUE(r.ok()) << method << " " << url << ": " << r.error();
  return r.ok() ? *r : net::HttpResponse{.status = -1, .headers = {}, .body = {}};
}

TEST(LunaldGatewayTest, HelpShowsTheConfiguration) {
  auto r = testing::RunProcess({LunaldPath(), "gateway", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* needle : {"control_deployment:", "cds_url:", "sim_root:", "hardware attester",
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
  testing::WriteFile(dir / "nocds.yaml", "gateway:\n  sim_root: s\n");
  auto nocds =
      testing::RunProcess({LunaldPath(), "--config", (dir / "nocds.yaml").string(), "gateway"});
  EXPECT_EQ(nocds.exit_code, 2);
  EXPECT_NE(nocds.err.find("gateway.cds_url: required"), std::string::npos) << nocds.err;
  // The CDS's address is checked when the file is read, as the node's and the control plane's are
  // (it was taken as any text, to fail only at enrolment).
  testing::WriteFile(dir / "badcds.yaml", "gateway:\n  sim_root: s\n  cds_url: cds.local:9\n");
  auto badcds =
      testing::RunProcess({LunaldPath(), "--config", (dir / "badcds.yaml").string(), "gateway"});
  EXPECT_EQ(badcds.exit_code, 2);
  EXPECT_NE(badcds.err.find("badcds.yaml:3:12: gateway.cds_url: expected an http(s) URL"),
            std::string::npos)
      << badcds.err;
  // Without --config, the role names the section it needs.
  auto none = testing::RunProcess({LunaldPath(), "gateway", "--json"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.out.find("lunald gateway needs --config with a `gateway:` section"),
            std::string::npos)
      << none.out;
  // The admin token is gone: the admin API is mesh TLS (a stale key is an error, not ignored).
  testing::WriteFile(dir / "stale.yaml",
                     "gateway:\n  cds_url: http://127.0.0.1:1\n  sim_root: sim\n"
                     "  admin_token_file: token\n");
  auto stale =
      testing::RunProcess({LunaldPath(), "--config", (dir / "stale.yaml").string(), "gateway"});
  EXPECT_EQ(stale.exit_code, 2);
  EXPECT_NE(stale.err.find("gateway.admin_token_file: unknown key"), std::string::npos)
      << stale.err;
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
  auto put = Send("PUT", cds_url + "/v1/cds/manifest", {},
                  SignAllowList(*op, 1, Json::array({AllowEntry("acme", "api", app_hash)})));
  ASSERT_EQ(put.status, 200) << put.body;
  testing::WriteFile(dir / "gateway.yaml",
                     "gateway:\n  cds_url: " + cds_url + "\n  sim_root: sim\n  threads: 2\n");
  auto unlisted = testing::RunProcess(
      {LunaldPath(), "--json", "--config", (dir / "gateway.yaml").string(), "gateway"});
  EXPECT_NE(unlisted.exit_code, 0);
  const Json unlisted_error = ParseJson(unlisted.out).value_or(Json());
  EXPECT_TRUE(unlisted_error["error"]["reason"].get<std::string>().starts_with("cds.allow_list."))
      << unlisted.out << unlisted.err;
  EXPECT_NE(unlisted.out.find(lunald_hash), std::string::npos) << unlisted.out;

  const std::string control_hash = "sha256:" + std::string(64, 'c');
  put = Send("PUT", cds_url + "/v1/cds/manifest", {},
             SignAllowList(*op, 2,
                           Json::array({AllowEntry("lunal", "gateway", lunald_hash),
                                        AllowEntry("lunal", "control", control_hash),
                                        AllowEntry("acme", "api", app_hash)})));
  ASSERT_EQ(put.status, 200) << put.body;
  auto control = lunald_testing::EnrolTestIdentity(dir / "sim", cds_url, "lunal", "control",
                                                   "control-test", control_hash);
  ASSERT_TRUE(control.ok()) << control.error();
  auto control_tls = lunald_testing::PlatformClientTls(*control, "lunal", "gateway");
  ASSERT_TRUE(control_tls.ok()) << control_tls.error();

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
  EXPECT_TRUE(admin_url.starts_with("https://127.0.0.1:")) << admin_url;

  const Json route = {
      {"tenant", "acme"},
      {"build_hashes", {app_hash}},
      {"allow_simulated", true},
      {"backends",
       {{{"instance_id", "i-1"}, {"address", "127.0.0.1:" + std::to_string(instance.port())}}}}};
  // Not the control plane: the instance's own identity (listed, attested), and no certificate.
  {
    auto instance_tls = lunald_testing::PlatformClientTls(
        {.credentials = *creds, .ca_pem = enrolment->ca_pem}, "lunal", "gateway");
    ASSERT_TRUE(instance_tls.ok()) << instance_tls.error();
    net::HttpClient impostor({.tls = *instance_tls});
    auto r = impostor.Send({.method = "PUT",
                            .url = admin_url + "/v1/gateway/routes/api",
                            .headers = {},
                            .body = route.dump()});
    EXPECT_FALSE(r.ok() && r->status == 200);
    net::ClientTlsOptions anonymous = *control_tls;
    anonymous.client_credentials = nullptr;
    net::HttpClient no_cert({.tls = anonymous});
    r = no_cert.Send({.method = "GET", .url = admin_url + "/v1/gateway/routes"});
    EXPECT_FALSE(r.ok() && r->status == 200);
  }
  EXPECT_EQ(Send("GET", url + "/d/api/hello").status, 404);  // nothing installed

  auto installed = Send("PUT", admin_url + "/v1/gateway/routes/api", *control_tls, route.dump());
  ASSERT_EQ(installed.status, 200) << installed.body;
  auto answer = Send("GET", url + "/d/api/hello?x=1");
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
  EXPECT_NE(err.find("gateway.admin.refused"), std::string::npos) << err;
  EXPECT_NE(err.find("mesh.peer.wrong_identity"), std::string::npos) << err;
  EXPECT_NE(err.find("mesh.peer.no_certificate"), std::string::npos) << err;
}

}  // namespace
}  // namespace lunal
