// The platform commands through the built `lunal` binary, against an in-test API server that
// answers in the shapes of the control-plane contract (canned responses), with a real sim-tdx
// evidence bundle (src/attest/deployment/test_bundle.h) for `attestation verify --deployment`.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <mutex>

#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "lunal/net/errors.h"
#include "lunal/net/server.h"
#include "lunal/testing/testing.h"
#include "test_bundle.h"

namespace lunal {
namespace {

using testing::ProcessResult;
namespace fs = std::filesystem;

constexpr std::string_view kToken = "lnl_test_token";

// The API server: routes added per test; every request is recorded.
class FakeApi {
 public:
  struct Seen {
    std::string method, target, body, authorization;
  };

  void Add(std::string method, std::string pattern, net::Handler handler) {
    ASSERT_TRUE(router_
                    .Add(method, pattern,
                         [this, handler](net::HttpRequest& r) {
                           {
                             std::lock_guard lock(mu_);
                             seen_.push_back({r.method, r.target, r.body,
                                              std::string(r.Header("Authorization").value_or(""))});
                           }
                           return handler(r);
                         })
                    .ok());
  }
  void Json(std::string method, std::string pattern, lunal::Json body, int status = 200) {
    Add(std::move(method), std::move(pattern),
        [body, status](net::HttpRequest&) { return net::HttpResponse::Json(status, body); });
  }
  void Start() {
    server_ = std::make_unique<net::HttpServer>(
        net::ServerOptions{.threads = 2, .max_body_bytes = std::size_t{8} << 20},
        std::move(router_));
    ASSERT_TRUE(server_->Start().ok());
  }
  std::string Url() const { return fmt::format("http://127.0.0.1:{}", server_->port()); }
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  std::optional<Seen> Find(std::string_view method, std::string_view target_prefix) {
    for (const Seen& s : seen()) {
      if (s.method == method && s.target.rfind(target_prefix, 0) == 0) return s;
    }
    return std::nullopt;
  }

 private:
  net::Router router_;
  std::unique_ptr<net::HttpServer> server_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

class PlatformCommandsTest : public ::testing::Test {
 protected:
  ProcessResult Lunal(std::vector<std::string> args, bool with_api = true) {
    args.insert(args.begin(), (lunal::testing::BinaryDir() / "src/cli/lunal").string());
    if (with_api) {
      args.push_back("--api");
      args.push_back(api_.Url());
      args.push_back("--token");
      args.push_back(std::string(kToken));
    }
    lunal::testing::ProcessOptions options;
    options.env = {"LUNAL_CONFIG=" + (dir_ / "config.yaml").string(),
                   "LUNAL_API=", "LUNAL_TOKEN=", "HOME=" + dir_.path().string()};
    return lunal::testing::RunProcess(args, options);
  }

  static Json Deployment(std::string state = "running") {
    return Json{{"id", "hello"},
                {"name", "hello"},
                {"tenant", "dev"},
                {"state", state},
                {"reason", nullptr},
                {"message", nullptr},
                {"environment", "production"},
                {"branch", nullptr},
                {"build_hash", attest::testing::kTestBuildHash},
                {"url", "http://hello.localhost:7080/"},
                {"path_url", "http://localhost:7080/d/hello/"},
                {"instances_desired", 2},
                {"instances",
                 {{{"id", "i-0a1b2c3d"},
                   {"state", "running"},
                   {"address", "127.0.0.1:41000"},
                   {"build_hash", attest::testing::kTestBuildHash},
                   {"started_at", "2026-11-21T10:00:00Z"},
                   {"reason", nullptr}},
                  {{"id", "i-99999999"},
                   {"state", "starting"},
                   {"address", "127.0.0.1:41001"},
                   {"build_hash", attest::testing::kTestBuildHash},
                   {"started_at", "2026-11-21T10:00:05Z"},
                   {"reason", nullptr}}}},
                {"attestation",
                 {{"status", "verified"},
                  {"tee", "tdx"},
                  {"simulated", true},
                  {"last_verified", "2026-11-21T10:01:00Z"}}},
                {"created_at", "2026-11-21T09:59:00Z"},
                {"updated_at", "2026-11-21T10:01:00Z"}};
  }

  void Events(const std::string& name, Json page, Json earlier = Json::array());

  lunal::testing::TempDir dir_;
  FakeApi api_;
};

bool Has(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

// ---- attestation verify --deployment ----

class VerifyDeploymentTest : public PlatformCommandsTest {
 protected:
  void SetUp() override {
    if (!lunal::testing::HaveProgram("ssh-keygen")) GTEST_SKIP() << "ssh-keygen not installed";
    auto t = attest::testing::TestDeployment::Create(dir_ / "node", clock_);
    ASSERT_TRUE(t.ok()) << t.error();
    deployment_ = std::move(*t);
  }
  void Serve(const Json& evidence, bool dev_platform) {
    api_.Json("GET", "/v1/deployments/hello/evidence", evidence);
    Json platform = {{"mode", dev_platform ? "dev" : "production"},
                     {"gateway_url", "http://localhost:7080"},
                     {"simulation", dev_platform},
                     {"sim_root_pem", nullptr},
                     {"sim_root_sha256", nullptr}};
    if (dev_platform) {
      platform["sim_root_pem"] = deployment_->root->root_certificate().ToPem();
      platform["sim_root_sha256"] = deployment_->root->FingerprintHex();
    }
    api_.Json("GET", "/v1/platform", platform);
    api_.Start();
  }

  // The binary verifies as of its own clock: the evidence is made now.
  FakeClock clock_{SystemClock::Instance().Now()};
  std::unique_ptr<attest::testing::TestDeployment> deployment_;
};

TEST_F(VerifyDeploymentTest, VerifiesLocallyAndPrintsTheSeedLines) {
  Serve(deployment_->ApiJson(clock_.Now()), /*dev_platform=*/true);
  auto r = Lunal({"attestation", "verify", "--deployment", "hello"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("✅ Attestation verification complete for deployment: hello\n\n", 0), 0u)
      << r.out;
  const std::string hash(attest::testing::kTestBuildHash);
  for (const std::string& line :
       {std::string("\nDeployment ID: hello\n"), std::string("\nInstance: i-0a1b2c3d\n"),
        "\nBuild Hash: " + hash + "\n", std::string("\nVerification Time: "),
        std::string("\nTEE Measurements (Intel TDX (simulated)):\n  MRTD: "),
        std::string("\n  RTMR3: "), std::string("\nDeveloper Signature: VALID ✓\n"),
        std::string("\n  Developer: dev@example.com\n  Key Fingerprint: SHA256:"),
        std::string("\nPlatform Verification: SECURE ✓\n  TCB Status: UpToDate\n"),
        std::string("\n⚠ simulated TEE: no hardware protects this instance\n")}) {
    EXPECT_TRUE(Has(r.out, line)) << "missing: " << line << "\nin:\n" << r.out;
  }
  // Trusting the dev platform's root is announced with its fingerprint.
  EXPECT_TRUE(Has(r.err, deployment_->root->FingerprintHex())) << r.err;
  // The request carried the token.
  auto seen = api_.Find("GET", "/v1/deployments/hello/evidence");
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->authorization, "Bearer " + std::string(kToken));

  auto j = Lunal({"attestation", "verify", "--deployment", "hello", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto record = ParseJson(j.out);
  ASSERT_TRUE(record.ok()) << j.out;
  EXPECT_EQ((*record)["status"], "verified");
  EXPECT_EQ((*record)["attestation"]["report_data_binding"]["valid"], true);
  EXPECT_EQ((*record)["attestation"]["signature_verification"]["developer_id"], "dev@example.com");
}

TEST_F(VerifyDeploymentTest, TamperedQuoteFailsLoudly) {
  Json evidence = deployment_->ApiJson(clock_.Now());
  Bytes quote = *Base64Decode(evidence["evidence"]["quote"].get<std::string>());
  quote[184] ^= 0x01;  // in MRTD, under the quote's signature
  evidence["evidence"]["quote"] = Base64Encode(quote);
  Serve(evidence, /*dev_platform=*/true);
  auto r = Lunal({"attestation", "verify", "--deployment", "hello"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("❌ Attestation verification FAILED for deployment: hello\n", 0), 0u)
      << r.out;
  EXPECT_TRUE(Has(r.out, "Reason: tdx.quote.signature_invalid\n")) << r.out;
  EXPECT_FALSE(Has(r.out, "✅"));

  auto j = Lunal({"attestation", "verify", "--deployment", "hello", "--json"});
  EXPECT_EQ(j.exit_code, 1);
  auto record = ParseJson(j.out);
  ASSERT_TRUE(record.ok()) << j.out;
  EXPECT_EQ((*record)["status"], "failed");
  EXPECT_EQ((*record)["error"]["reason"], "tdx.quote.signature_invalid");
}

TEST_F(VerifyDeploymentTest, SimulationRootIsTrustedOnlyWhenPinnedOrDev) {
  Serve(deployment_->ApiJson(clock_.Now()), /*dev_platform=*/false);
  auto refused = Lunal({"attestation", "verify", "--deployment", "hello"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_TRUE(Has(refused.out, "❌ Attestation verification FAILED for deployment: hello"));

  lunal::testing::WriteFile(dir_ / "root.pem", deployment_->root->root_certificate().ToPem());
  auto pinned = Lunal({"attestation", "verify", "--deployment", "hello", "--sim-root",
                       (dir_ / "root.pem").string()});
  EXPECT_EQ(pinned.exit_code, 0) << pinned.out << pinned.err;
  EXPECT_TRUE(Has(pinned.out, "✅ Attestation verification complete for deployment: hello"));
  EXPECT_FALSE(Has(pinned.err, "dev platform"));
}

TEST_F(PlatformCommandsTest, VerifyNeedsEvidenceOrDeployment) {
  api_.Start();
  auto r = Lunal({"attestation", "verify"}, /*with_api=*/false);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Has(r.err, "[cli.usage]")) << r.err;
}

TEST_F(PlatformCommandsTest, VerifyOfADeploymentNotRunningIsAConflict) {
  api_.Json("GET", "/v1/deployments/{name}/evidence",
            {{"error",
              {{"code", "conflict"},
               {"reason", "control.deployment.not_running"},
               {"message", "no instance of hello has attested"}}}},
            409);
  api_.Start();
  auto r = Lunal({"attestation", "verify", "--deployment", "hello"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: no instance of hello has attested [control.deployment.not_running]\n");
}

// ---- attestation status ----

TEST_F(PlatformCommandsTest, AttestationStatusPrintsTheSeedLines) {
  const std::string two_minutes_ago =
      FormatRfc3339(SystemClock::Instance().Now() - std::chrono::seconds(150));
  api_.Json("GET", "/v1/deployments/hello/attestation",
            {{"status", "verified"},
             {"attestation", {{"tee", {{"type", "tdx"}, {"simulated", true}}}}},
             {"last_verified", two_minutes_ago}});
  api_.Json("GET", "/v1/deployments/broken/attestation",
            {{"status", "failed"},
             {"error",
              {{"code", "verification_failed"},
               {"reason", "deployment.binding.mismatch"},
               {"message", "REPORT_DATA differs"}}},
             {"attestation", Json::object()},
             {"last_verified", two_minutes_ago}});
  api_.Json("GET", "/v1/deployments/idle/attestation",
            {{"error",
              {{"code", "conflict"},
               {"reason", "control.deployment.not_running"},
               {"message", "no instance has attested"}}}},
            409);
  api_.Start();
  auto r = Lunal({"attestation", "status", "--app", "hello"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "✅ Application \"hello\" is running with valid attestation\n"
            "Attestation Provider: Intel TDX (simulated)\n"
            "Last verified: 2 minutes ago\n");

  auto broken = Lunal({"attestation", "status", "--app", "broken"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_EQ(broken.out,
            "❌ Application \"broken\" is not running with valid attestation: REPORT_DATA differs "
            "[deployment.binding.mismatch]\n");
  auto idle = Lunal({"attestation", "status", "--app", "idle"});
  EXPECT_EQ(idle.exit_code, 1);
  EXPECT_TRUE(Has(idle.out, "❌ Application \"idle\"")) << idle.out;
}

// ---- status, scale, logs, upload, login ----

TEST_F(PlatformCommandsTest, StatusListsAndShows) {
  api_.Json("GET", "/v1/deployments", {{"deployments", {Deployment()}}});
  api_.Json("GET", "/v1/deployments/hello", Deployment());
  api_.Json("GET", "/v1/deployments/nope",
            {{"error",
              {{"code", "not_found"},
               {"reason", "control.deployment.not_found"},
               {"message", "no deployment nope"}}}},
            404);
  api_.Start();
  auto list = Lunal({"status"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out.rfind("NAME", 0), 0u) << list.out;
  EXPECT_TRUE(Has(list.out, "hello")) << list.out;
  EXPECT_TRUE(Has(list.out, " 1/2 ")) << list.out;
  EXPECT_TRUE(Has(list.out, "http://hello.localhost:7080/"));
  EXPECT_TRUE(Has(list.out, "sha256:7a9d2e4cdf81\n")) << list.out;

  auto one = Lunal({"status", "--app", "hello"});
  ASSERT_EQ(one.exit_code, 0);
  EXPECT_TRUE(Has(one.out, "Instances:   1 running, 2 desired\n")) << one.out;
  EXPECT_TRUE(Has(one.out, "i-99999999  starting")) << one.out;

  auto json = Lunal({"status", "--app", "hello", "--json"});
  ASSERT_EQ(json.exit_code, 0);
  EXPECT_EQ(*ParseJson(json.out), Deployment());

  auto missing = Lunal({"status", "--app", "nope"});
  EXPECT_EQ(missing.exit_code, 5);
  EXPECT_EQ(missing.err, "error: no deployment nope [control.deployment.not_found]\n");
}

TEST_F(PlatformCommandsTest, ScaleLogsAndUploadRoundTrip) {
  Json scaled = Deployment();
  scaled["instances_desired"] = 3;
  api_.Json("POST", "/v1/deployments/hello/scale", scaled);
  // The log API answers a page at a time (after=SEQ); the CLI reads pages until an empty one.
  const Json lines = Json::array({{{"seq", 1},
                                   {"time", "2026-11-21T10:00:01Z"},
                                   {"instance_id", "build"},
                                   {"stream", "build"},
                                   {"line", "step 1/2"}},
                                  {{"seq", 2},
                                   {"time", "2026-11-21T10:00:09Z"},
                                   {"instance_id", "i-0a1b2c3d"},
                                   {"stream", "stdout"},
                                   {"line", "listening on :8080"}},
                                  {{"seq", 5},
                                   {"time", "2026-11-21T10:00:10Z"},
                                   {"instance_id", "i-0a1b2c3d"},
                                   {"stream", "stderr"},
                                   {"line", "GET /api/hello"}}});
  api_.Add("GET", "/v1/deployments/hello/logs", [lines](net::HttpRequest& req) {
    const std::string after(req.Query("after").value_or("0"));
    Json page = Json::array();
    if (after == "0") page = {lines[0], lines[1]};  // a "full" page of two
    if (after == "2") page = {lines[2]};
    return net::HttpResponse::Json(200, {{"logs", page}});
  });
  api_.Json("POST", "/v1/deployments/hello/signatures",
            {{"developer_id", "dev@example.com"},
             {"key_id", "SHA256:abc"},
             {"signature_valid", true},
             {"namespace", "lunal"},
             {"build_hash", attest::testing::kTestBuildHash}},
            201);
  api_.Start();

  auto scale = Lunal({"scale", "--app", "hello", "--instances", "3"});
  ASSERT_EQ(scale.exit_code, 0) << scale.err;
  EXPECT_EQ(scale.out, "Scaled hello to 3 instances (1 running now)\n");
  EXPECT_EQ(*ParseJson(api_.Find("POST", "/v1/deployments/hello/scale")->body),
            (Json{{"instances", 3}}));
  EXPECT_EQ(Lunal({"scale", "--app", "hello", "--instances", "21"}).exit_code, 2);

  auto logs = Lunal({"logs", "--app", "hello", "--instance", "i-0a1b2c3d"});
  ASSERT_EQ(logs.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out,
            "2026-11-21T10:00:01Z build build step 1/2\n"
            "2026-11-21T10:00:09Z i-0a1b2c3d stdout listening on :8080\n"
            "2026-11-21T10:00:10Z i-0a1b2c3d stderr GET /api/hello\n");
  std::vector<std::string> pages;
  for (const auto& seen : api_.seen()) {
    if (seen.target.starts_with("/v1/deployments/hello/logs")) pages.push_back(seen.target);
  }
  EXPECT_EQ(pages, (std::vector<std::string>{
                       "/v1/deployments/hello/logs?after=0&wait=0&instance=i-0a1b2c3d",
                       "/v1/deployments/hello/logs?after=2&wait=0&instance=i-0a1b2c3d",
                       "/v1/deployments/hello/logs?after=5&wait=0&instance=i-0a1b2c3d"}));

  const std::string signature =
      "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n";
  lunal::testing::WriteFile(dir_ / "hash.txt.sig", signature);
  auto upload =
      Lunal({"upload", "--signature", (dir_ / "hash.txt.sig").string(), "--deployment", "hello"});
  ASSERT_EQ(upload.exit_code, 0) << upload.err;
  EXPECT_TRUE(Has(upload.out, "Developer: dev@example.com\n")) << upload.out;
  EXPECT_TRUE(Has(upload.out, "Key: SHA256:abc\n"));
  EXPECT_EQ((*ParseJson(api_.Find("POST", "/v1/deployments/hello/signatures")->body))["signature"],
            signature);
}

TEST_F(PlatformCommandsTest, LoginChecksTheTokenAndWritesThePrivateConfig) {
  api_.Add("GET", "/v1/whoami", [](net::HttpRequest& r) {
    if (r.Header("Authorization").value_or("") != "Bearer " + std::string(kToken)) {
      return net::ErrorResponse(Unauthenticated("control.auth.unauthenticated", "unknown token"));
    }
    return net::HttpResponse::Json(200, {{"tenant", "dev"}, {"admin", true}});
  });
  api_.Json("GET", "/v1/deployments", {{"deployments", Json::array()}});
  api_.Start();
  auto login = Lunal({"login"});
  ASSERT_EQ(login.exit_code, 0) << login.err;
  EXPECT_EQ(login.out, "Logged in to " + api_.Url() + " as tenant dev\n");
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "config.yaml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The saved file is what later commands use.
  auto status = Lunal({"status"}, /*with_api=*/false);
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(api_.seen().back().authorization, "Bearer " + std::string(kToken));

  auto bad = Lunal({"login", "--api", api_.Url(), "--token", "lnl_wrong"}, false);
  EXPECT_EQ(bad.exit_code, 4);
  EXPECT_EQ(bad.err, "error: unknown token [control.auth.unauthenticated]\n");
}

// ---- deploy ----

// GET .../events as the server answers it: before POST /v1/deployments, the earlier revision's
// events (none: 404); after it, `page`'s events with seq > ?after.
void PlatformCommandsTest::Events(const std::string& name, Json page, Json earlier) {
  api_.Add("GET", "/v1/deployments/" + name + "/events",
           [this, page, earlier](net::HttpRequest& r) {
             const std::int64_t after = std::stoll(std::string(r.Query("after").value_or("0")));
             if (!api_.Find("POST", "/v1/deployments")) {
               if (earlier.empty()) {
                 return net::ErrorResponse(
                     NotFound("control.deployment.not_found", "no such deployment"));
               }
               return net::HttpResponse::Json(200, {{"events", earlier}, {"state", "running"}});
             }
             Json out = page;
             out["events"] = Json::array();
             for (const Json& e : page["events"]) {
               if (e["seq"].get<std::int64_t>() + (earlier.empty() ? 0 : 2) > after) {
                 Json shifted = e;
                 shifted["seq"] = e["seq"].get<std::int64_t>() + (earlier.empty() ? 0 : 2);
                 out["events"].push_back(shifted);
               }
             }
             return net::HttpResponse::Json(200, out);
           });
}

Json Event(int seq, std::string kind, std::string message, Json data = Json::object()) {
  return Json{{"seq", seq},
              {"time", "2026-11-21T10:00:00Z"},
              {"kind", std::move(kind)},
              {"message", std::move(message)},
              {"data", std::move(data)}};
}

TEST_F(PlatformCommandsTest, DeployUploadsTheFolderAndFollowsTheEvents) {
  const fs::path project = dir_ / "My_App";
  fs::create_directories(project / ".git");
  lunal::testing::WriteFile(project / "app.py", "print('hi')\n");
  lunal::testing::WriteFile(project / "lunal.config.yaml", "runtime:\n  language: python\n");
  lunal::testing::WriteFile(project / ".git" / "HEAD", "ref: refs/heads/main\n");
  api_.Json("POST", "/v1/uploads", {{"upload_id", "upl_00ff"}, {"sha256", "ab"}, {"bytes", 10}},
            201);
  Json created = Deployment("building");
  created["name"] = "my-app";
  api_.Json("POST", "/v1/deployments", created, 202);
  const std::string hash(attest::testing::kTestBuildHash);
  Events("my-app",
         {{"events",
           {Event(1, "build.started", "build started"),
            Event(2, "build.progress", "installing requirements"),
            Event(3, "build.finished", "built", {{"build_hash", hash}}),
            Event(4, "allow_list", "allowed", {{"build_hash", hash}, {"version", 7}}),
            Event(5, "launch.started", "launching", {{"instance_id", "i-0a1b2c3d"}}),
            Event(6, "instance.ready", "ready",
                  {{"instance_id", "i-0a1b2c3d"}, {"address", "127.0.0.1:41000"}}),
            Event(7, "running", "running", {{"url", "http://my-app.localhost:7080/"}})}},
          {"state", "running"}},
         /*earlier=*/{Event(1, "build.started", "rev 1"), Event(2, "running", "rev 1")});
  Json running = Deployment();
  running["name"] = "my-app";
  running["url"] = "http://my-app.localhost:7080/";
  api_.Json("GET", "/v1/deployments/my-app", running);
  api_.Start();

  auto r = Lunal({"deploy", project.string(), "--instances", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const std::string& line :
       {std::string("upload: "), std::string("build: started\n"),
        std::string("build: installing requirements\n"), "build: " + hash + "\n",
        std::string("allow: build allowed (allow-list version 7)\n"),
        std::string("launch: i-0a1b2c3d\n"),
        std::string("launch: i-0a1b2c3d ready at 127.0.0.1:41000\n"),
        std::string("attest: Intel TDX (simulated) verified\n"),
        std::string("Deployed my-app: http://my-app.localhost:7080/\n"),
        std::string("  curl http://my-app.localhost:7080/api/hello\n"),
        "Attestation: tdx, build hash " + hash + "\n",
        std::string("⚠ simulated TEE: no hardware protects this instance\n")}) {
    EXPECT_TRUE(Has(r.out, line)) << "missing: " << line << "\nin:\n" << r.out;
  }
  // What was sent: a gzip'd tar of the folder without .git, then the deployment.
  auto upload = api_.Find("POST", "/v1/uploads");
  ASSERT_TRUE(upload);
  lunal::testing::WriteFile(dir_ / "upload.tar.gz", upload->body);
  auto listing = lunal::testing::RunProcess({"tar", "tzf", (dir_ / "upload.tar.gz").string()});
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  EXPECT_EQ(listing.out, "app.py\nlunal.config.yaml\n");
  EXPECT_EQ(*ParseJson(api_.Find("POST", "/v1/deployments")->body),
            (Json{{"name", "my-app"},
                  {"environment", "production"},
                  {"instances", 2},
                  {"source", {{"type", "upload"}, {"upload_id", "upl_00ff"}}}}));
  // An earlier revision's events were skipped: the follow started after them.
  EXPECT_EQ(api_.Find("GET", "/v1/deployments/my-app/events")->target,
            "/v1/deployments/my-app/events?after=0&wait=0");
  EXPECT_TRUE(api_.Find("GET", "/v1/deployments/my-app/events?after=2&wait=25"));
  EXPECT_FALSE(Has(r.out, "rev 1"));
}

TEST_F(PlatformCommandsTest, DeployOfAGitUrlThatFailsExitsOne) {
  api_.Json("POST", "/v1/deployments", Deployment("building"), 202);
  Events("api", {{"events",
                  {Event(1, "build.started", "build started"),
                   Event(2, "failed", "step 'pip install' exited with 1",
                         {{"reason", "build.step_failed"}})}},
                 {"state", "failed"}});
  api_.Start();
  auto r =
      Lunal({"deploy", "https://github.com/acme/api.git", "--branch", "main", "--project", "shop"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Has(r.out,
                  "✗ Deployment api failed: step 'pip install' exited with 1 "
                  "[build.step_failed]\n"))
      << r.out;
  EXPECT_EQ((*ParseJson(api_.Find("POST", "/v1/deployments")->body))["source"],
            (Json{{"type", "git"}, {"url", "https://github.com/acme/api.git"}, {"ref", "main"}}));
  EXPECT_EQ((*ParseJson(api_.Find("POST", "/v1/deployments")->body))["project"], "shop");
  EXPECT_FALSE(api_.Find("POST", "/v1/uploads"));
}

TEST_F(PlatformCommandsTest, ProjectsListCreateAndDelete) {
  api_.Json("GET", "/v1/projects",
            {{"projects",
              {{{"name", "content"}, {"description", ""}, {"deployments", {"blog"}}},
               {{"name", "shop"},
                {"description", "the store"},
                {"deployments", {"shop-api", "shop-web"}}}}}});
  api_.Json("POST", "/v1/projects", {{"name", "new"}, {"description", "x"}}, 201);
  api_.Json("DELETE", "/v1/projects/{name}", {{"deleted", "shop"}});
  api_.Start();

  auto list = Lunal({"projects"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out, fmt::format("{:<24} {:<40} {}\n{:<24} {:<40} {}\n{:<24} {:<40} {}\n", "NAME",
                                  "DEPLOYMENTS", "DESCRIPTION", "content", "blog", "", "shop",
                                  "shop-api,shop-web", "the store"));
  auto created = Lunal({"projects", "create", "new", "--description", "x"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out, "Created project new\n");
  EXPECT_EQ(*ParseJson(api_.Find("POST", "/v1/projects")->body),
            (Json{{"name", "new"}, {"description", "x"}}));
  auto deleted = Lunal({"projects", "delete", "shop"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(api_.Find("DELETE", "/v1/projects/")->target, "/v1/projects/shop");
  EXPECT_EQ(Lunal({"projects", "create"}).exit_code, 2);  // the name is required
}

}  // namespace
}  // namespace lunal
