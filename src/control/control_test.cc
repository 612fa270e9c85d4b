// The control plane over real HTTP, real SQLite and real builds (bwrap, Debian's python3), with
// fakes of its own interfaces (NodeApi, RouteSink, AllowListAuthority): the real node agent and
// gateway meet it in the e2e tests.
#include "lunal/control/control.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "lunal/crypto/digest.h"
#include "lunal/db/sqlite.h"
#include "lunal/net/client.h"
#include "lunal/net/server.h"
#include "lunal/testing/testing.h"

#ifdef LUNAL_CONTROL_TEST_REAL_EVIDENCE
#include "test_bundle.h"
#endif

namespace lunal::control {
namespace {

namespace fs = std::filesystem;
using lunal::testing::ReadFileText;
using lunal::testing::RunProcess;
using lunal::testing::TempDir;
using lunal::testing::WriteFile;
using namespace std::chrono_literals;

class FakeNode final : public NodeApi {
 public:
  Result<node::InstanceStatus> Launch(const node::LaunchRequest& request) override {
    {
      std::lock_guard lock(mu_);
      launches_.push_back(request);
      launch_threads_.push_back(static_cast<long>(::syscall(SYS_gettid)));
      if (refuse_.count(request.build_hash)) {
        return PolicyViolation("node.allow_list.not_listed", "{} is not on the allow-list",
                               request.build_hash);
      }
    }
    node::InstanceStatus s;
    s.instance_id = request.instance_id;
    s.tenant = request.tenant;
    s.deployment = request.deployment;
    s.build_hash = request.build_hash;
    s.state = node::InstanceState::kRunning;
    s.address = fmt::format("127.0.0.1:{}", 20000 + Launches());
    s.evidence = {{"platform", "tdx"}, {"quote", "fake"}};
    s.nonce = "nonce-" + request.instance_id;
    s.certificate_pem = "cert-" + request.instance_id;
#ifdef LUNAL_CONTROL_TEST_REAL_EVIDENCE
    if (!real_dir_.empty()) {
      attest::testing::TestDeploymentOptions o;
      o.tenant = request.tenant;
      o.deployment = request.deployment;
      o.instance = request.instance_id;
      o.build_hash = request.build_hash;
      o.sign = false;
      auto t = attest::testing::TestDeployment::Create(real_dir_, SystemClock::Instance(), o);
      if (!t.ok()) return t.error();
      s.evidence = (*t)->bundle.evidence;
      s.nonce = (*t)->bundle.nonce;
      s.certificate_pem = (*t)->bundle.certificate_pem;
    }
#endif
    return s;
  }
  Status Stop(std::string_view instance_id) override {
    std::lock_guard lock(mu_);
    stops_.emplace_back(instance_id);
    return Status::Ok();
  }
  int Launches() {
    std::lock_guard lock(mu_);
    return static_cast<int>(launches_.size());
  }
  std::vector<std::string> Stops() {
    std::lock_guard lock(mu_);
    return stops_;
  }
  std::vector<long> LaunchThreads() {
    std::lock_guard lock(mu_);
    return launch_threads_;
  }
  void Refuse(const std::string& hash) {
    std::lock_guard lock(mu_);
    refuse_.insert(hash);
  }
  fs::path real_dir_;

 private:
  std::mutex mu_;
  std::vector<node::LaunchRequest> launches_;
  std::vector<std::string> stops_;
  std::vector<long> launch_threads_;
  std::set<std::string> refuse_;
};

class FakeRoutes final : public RouteSink {
 public:
  void SetRoute(gateway::Route route) override {
    std::lock_guard lock(mu_);
    routes_[route.deployment] = route;
  }
  void RemoveRoute(std::string_view deployment) override {
    std::lock_guard lock(mu_);
    routes_.erase(std::string(deployment));
    removed_.emplace_back(deployment);
  }
  std::optional<gateway::Route> Get(const std::string& name) {
    std::lock_guard lock(mu_);
    auto it = routes_.find(name);
    if (it == routes_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::mutex mu_;
  std::map<std::string, gateway::Route> routes_;
  std::vector<std::string> removed_;
};

class FakeAuthority final : public AllowListAuthority {
 public:
  Status Allow(std::string_view tenant, std::string_view deployment,
               std::string_view build_hash) override {
    std::lock_guard lock(mu_);
    allowed_.push_back(fmt::format("{}/{}/{}", tenant, deployment, build_hash));
    return Status::Ok();
  }
  std::vector<std::string> Allowed() {
    std::lock_guard lock(mu_);
    return allowed_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> allowed_;
};

struct Reply {
  int status = 0;
  Json body;
};

class ControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!lunal::testing::HaveProgram("bwrap")) GTEST_SKIP() << "bwrap is not installed";
    // The app every test deploys: standard library only, as examples/hello-python.
    fs::create_directories(dir_ / "app");
    WriteFile(dir_ / "app/app.py",
              "from http.server import BaseHTTPRequestHandler, HTTPServer\n"
              "class H(BaseHTTPRequestHandler):\n"
              "    def do_GET(self):\n"
              "        self.send_response(200)\n"
              "        self.end_headers()\n"
              "        self.wfile.write(b'hi')\n"
              "HTTPServer(('0.0.0.0', 8080), H).serve_forever()\n");
    WriteFile(dir_ / "app/lunal.config.yaml",
              "runtime:\n  language: python\n  entrypoint: app.py\n  port: 8080\n");
    Start();
  }
  void TearDown() override { Stop(); }

  void Start() {
    ControlOptions o;
    o.state_dir = dir_ / "state";
    o.node = &node_;
    o.routes = &routes_;
    o.authority = &authority_;
    o.sim_root = sim_root_;
    o.gateway_url = "http://localhost:7080";
    o.allow_local_paths = allow_local_paths_;
    o.builder_key = dir_ / "builder-key.pem";
    o.max_upload_bytes = 64 << 10;
    auto cp = ControlPlane::Open(std::move(o));
    ASSERT_TRUE(cp.ok()) << cp.error();
    cp_ = std::move(*cp);
    auto token = cp_->DevToken();
    ASSERT_TRUE(token.ok()) << token.error();
    dev_ = *token;
    net::Router router;
    ASSERT_TRUE(cp_->AddRoutes(router).ok());
    server_ = std::make_unique<net::HttpServer>(
        net::ServerOptions{.threads = 8, .max_body_bytes = std::size_t{1} << 20},
        std::move(router));
    ASSERT_TRUE(server_->Start().ok());
  }
  void Stop() {
    if (server_) server_->Stop(0ms);
    server_.reset();
    cp_.reset();
  }

  Reply Call(const std::string& method, const std::string& path, const std::string& token,
             const std::string& body = "", const std::string& type = "application/json") {
    net::HttpClient client({.request_timeout = 60s});
    net::HttpClientRequest req;
    req.method = method;
    req.url = fmt::format("http://127.0.0.1:{}{}", server_->port(), path);
    if (!token.empty()) req.headers.push_back({"Authorization", "Bearer " + token});
    if (!body.empty()) req.headers.push_back({"Content-Type", type});
    req.body = body;
    auto r = client.Send(req);
    EXPECT_TRUE(r.ok()) << r.error();
    if (!r.ok()) return {};
    Reply reply{r->status, nullptr};
    auto j = ParseJson(r->body);
    if (j.ok()) reply.body = *j;
    return reply;
  }
  static std::string Reason(const Reply& r) {
    return r.body.is_object() && r.body.contains("error") ? r.body["error"].value("reason", "")
                                                          : "";
  }

  Reply Deploy(const std::string& name, const std::string& token, int instances = -1) {
    Json body = {{"name", name}, {"source", {{"type", "path"}, {"path", (dir_ / "app").string()}}}};
    if (instances >= 0) body["instances"] = instances;
    return Call("POST", "/v1/deployments", token, body.dump());
  }

  // Long-polls events until the deployment reaches `state` (or 120 s pass); every event seen.
  Json WaitForState(const std::string& name, const std::string& want,
                    const std::string& token = "") {
    Json all = Json::array();
    std::int64_t after = 0;
    auto deadline = std::chrono::steady_clock::now() + 120s;
    while (std::chrono::steady_clock::now() < deadline) {
      Reply r = Call("GET", fmt::format("/v1/deployments/{}/events?after={}&wait=5", name, after),
                     token.empty() ? dev_ : token);
      EXPECT_EQ(r.status, 200) << r.body.dump();
      if (r.status != 200) break;
      for (const Json& e : r.body["events"]) {
        all.push_back(e);
        after = e["seq"].get<std::int64_t>();
      }
      if (r.body["state"] == want) return all;
      if (r.body["state"] == "failed" && want != "failed") {
        ADD_FAILURE() << "failed: " << all.dump();
        return all;
      }
    }
    ADD_FAILURE() << "timed out waiting for " << want << ": " << all.dump();
    return all;
  }

  template <typename F>
  bool Eventually(F f, std::chrono::milliseconds limit = 20s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (f()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return f();
  }

  std::vector<std::string> Kinds(const Json& events) {
    std::vector<std::string> kinds;
    for (const Json& e : events) {
      std::string k = e["kind"];
      if (k == "build.progress" && !kinds.empty() && kinds.back() == k) continue;
      kinds.push_back(k);
    }
    return kinds;
  }

  TempDir dir_;
  FakeNode node_;
  FakeRoutes routes_;
  FakeAuthority authority_;
  std::shared_ptr<const attest::sim::SimulationRoot> sim_root_;
  std::unique_ptr<ControlPlane> cp_;
  std::unique_ptr<net::HttpServer> server_;
  std::string dev_;
  bool allow_local_paths_ = true;
};

TEST_F(ControlTest, DeployReachesRunningWithEventsInOrder) {
  Reply created = Deploy("hello", dev_);
  ASSERT_EQ(created.status, 202) << created.body.dump();
  EXPECT_EQ(created.body["state"], "building");
  EXPECT_EQ(created.body["tenant"], "dev");
  Json events = WaitForState("hello", "running");
  EXPECT_EQ(Kinds(events), (std::vector<std::string>{
                               "build.started", "build.progress", "build.finished", "allow_list",
                               "launch.started", "instance.ready", "running"}));
  Reply d = Call("GET", "/v1/deployments/hello", dev_);
  ASSERT_EQ(d.status, 200);
  std::string hash = d.body["build_hash"];
  ASSERT_EQ(hash.size(), 71u);
  EXPECT_EQ(d.body["state"], "running");
  EXPECT_EQ(d.body["url"], "http://hello.localhost:7080/");
  EXPECT_EQ(d.body["path_url"], "http://localhost:7080/d/hello/");
  ASSERT_EQ(d.body["instances"].size(), 1u);
  std::string id = d.body["instances"][0]["id"];
  EXPECT_EQ(id.size(), 10u);
  EXPECT_EQ(id.substr(0, 2), "i-");
  // The build hash reached the allow-list authority, and the route names the running instance.
  EXPECT_EQ(authority_.Allowed(), std::vector<std::string>{"dev/hello/" + hash});
  auto route = routes_.Get("hello");
  ASSERT_TRUE(route.has_value());
  EXPECT_EQ(route->tenant, "dev");
  EXPECT_EQ(route->build_hashes, std::vector<std::string>{hash});
  ASSERT_EQ(route->backends.size(), 1u);
  EXPECT_EQ(route->backends[0].instance_id, id);
  EXPECT_FALSE(route->allow_simulated);
  // The thread that called Launch is still alive: a real node's bwrap --die-with-parent
  // (PR_SET_PDEATHSIG) would kill the instance when it exits.
  std::this_thread::sleep_for(200ms);
  ASSERT_EQ(node_.LaunchThreads().size(), 1u);
  EXPECT_TRUE(fs::exists(fmt::format("/proc/self/task/{}", node_.LaunchThreads()[0])));
  // The build record: hash.txt, the manifest whose canonical bytes hash to the build hash.
  Reply b = Call("GET", "/v1/deployments/hello/build", dev_);
  ASSERT_EQ(b.status, 200) << b.body.dump();
  EXPECT_EQ(b.body["hash_txt"], hash + "\n");
  auto canonical = CanonicalJson(b.body["manifest"]);
  ASSERT_TRUE(canonical.ok());
  EXPECT_EQ("sha256:" + HexEncode(crypto::Sha256(AsBytes(*canonical))), hash);
  EXPECT_EQ(b.body["config"]["runtime"]["entrypoint"], "app.py");
  // The evidence bundle is what the node reported for that instance.
  Reply ev = Call("GET", "/v1/deployments/hello/evidence", dev_);
  ASSERT_EQ(ev.status, 200) << ev.body.dump();
  EXPECT_EQ(ev.body["instance_id"], id);
  EXPECT_EQ(ev.body["nonce"], "nonce-" + id);
  EXPECT_EQ(ev.body["build_hash"], hash);
  EXPECT_EQ(ev.body["id"].get<std::string>().substr(0, 4), "att_");
  EXPECT_FALSE(ev.body.contains("signature"));
  // The build's progress lines are logs too.
  Reply logs = Call("GET", "/v1/deployments/hello/logs?instance=build", dev_);
  ASSERT_EQ(logs.status, 200);
  ASSERT_FALSE(logs.body["logs"].empty());
  EXPECT_EQ(logs.body["logs"][0]["stream"], "build");
  // Delete: instances stopped, route removed.
  Reply del = Call("DELETE", "/v1/deployments/hello", dev_);
  ASSERT_EQ(del.status, 200);
  EXPECT_EQ(del.body["state"], "deleted");
  EXPECT_EQ(node_.Stops(), std::vector<std::string>{id});
  EXPECT_FALSE(routes_.Get("hello").has_value());
}

TEST_F(ControlTest, DeployingTheRunningBuildAgainReachesRunning) {
  ASSERT_EQ(Deploy("hello", dev_).status, 202);
  WaitForState("hello", "running");
  const int launches = node_.Launches();
  // The same source again: the same build hash, already served by a running instance. Nothing
  // new to launch, so the deployment is running as soon as the build is allowed (it used to stay
  // "launching", and `lunal deploy` waited for it forever: a second `make demo` hung).
  Reply again = Deploy("hello", dev_);
  ASSERT_EQ(again.status, 202) << again.body.dump();
  Json events = WaitForState("hello", "running");
  std::vector<std::string> kinds = Kinds(events);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "running"), 2) << events.dump();
  EXPECT_EQ(kinds.back(), "running");
  EXPECT_EQ(node_.Launches(), launches);
  EXPECT_EQ(Call("GET", "/v1/deployments/hello", dev_).body["instances"].size(), 1u);
}

TEST_F(ControlTest, TenantsAreIsolatedAndTokensStoredHashed) {
  Reply unauth = Call("GET", "/v1/deployments", "");
  EXPECT_EQ(unauth.status, 401);
  EXPECT_EQ(Reason(unauth), "control.auth.unauthenticated");
  EXPECT_EQ(Reason(Call("GET", "/v1/deployments", "lnl_nottherightone")),
            "control.auth.unauthenticated");
  Reply t = Call("POST", "/v1/tenants", dev_, R"({"name": "acme"})");
  ASSERT_EQ(t.status, 201) << t.body.dump();
  std::string acme = t.body["token"];
  EXPECT_EQ(acme.size(), 4u + 43u);
  EXPECT_EQ(acme.substr(0, 4), "lnl_");
  EXPECT_EQ(Reason(Call("POST", "/v1/tenants", dev_, R"({"name": "acme"})")),
            "control.tenant.exists");
  Reply forbidden = Call("POST", "/v1/tenants", acme, R"({"name": "other"})");
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(Reason(forbidden), "control.auth.forbidden");
  Reply who = Call("GET", "/v1/whoami", acme);
  EXPECT_EQ(who.body, (Json{{"tenant", "acme"}, {"admin", false}}));

  ASSERT_EQ(Deploy("secret", dev_).status, 202);
  WaitForState("secret", "running");
  Reply list = Call("GET", "/v1/deployments", acme);
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(list.body["deployments"].empty());
  EXPECT_EQ(Call("GET", "/v1/deployments", dev_).body["deployments"].size(), 1u);
  for (auto [method, path, body] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"GET", "/v1/deployments/secret", ""},
           {"DELETE", "/v1/deployments/secret", ""},
           {"POST", "/v1/deployments/secret/scale", R"({"instances": 3})"},
           {"GET", "/v1/deployments/secret/logs", ""},
           {"GET", "/v1/deployments/secret/events", ""},
           {"GET", "/v1/deployments/secret/evidence", ""},
           {"GET", "/v1/deployments/secret/attestation", ""},
           {"GET", "/v1/deployments/secret/build", ""},
           {"GET", "/v1/deployments/secret/instances", ""},
           {"POST", "/v1/deployments/secret/signatures", R"({"signature": "x"})"}}) {
    Reply r = Call(method, path, acme, body);
    EXPECT_EQ(r.status, 404) << method << " " << path;
    EXPECT_EQ(Reason(r), "control.deployment.not_found") << method << " " << path;
    // Exactly as a name that does not exist.
    std::string missing = path;
    missing.replace(missing.find("secret"), 6, "nosuch");
    Reply other = Call(method, missing, acme, body);
    EXPECT_EQ(other.status, r.status) << path;
    EXPECT_EQ(other.body["error"]["reason"], r.body["error"]["reason"]) << path;
    std::string message = other.body["error"]["message"];
    message.replace(message.find("nosuch"), 6, "secret");
    EXPECT_EQ(message, r.body["error"]["message"]) << path;
  }
  Reply taken = Deploy("secret", acme);
  EXPECT_EQ(taken.status, 409);
  EXPECT_EQ(Reason(taken), "control.deployment.name_taken");
  // Nothing of A's changed: still running with one instance, never stopped.
  Reply still = Call("GET", "/v1/deployments/secret", dev_);
  EXPECT_EQ(still.body["state"], "running");
  EXPECT_EQ(still.body["instances_desired"], 1);
  EXPECT_TRUE(node_.Stops().empty());

  // Only the tokens' SHA-256 reaches the disk.
  Stop();
  std::string files;
  for (const auto& e : fs::directory_iterator(dir_ / "state")) {
    if (e.path().filename().string().starts_with("control.db")) files += ReadFileText(e.path());
  }
  EXPECT_EQ(files.find(acme), std::string::npos);
  EXPECT_EQ(files.find(dev_), std::string::npos);
  EXPECT_NE(files.find(HexEncode(crypto::Sha256(AsBytes(acme)))), std::string::npos);
  EXPECT_EQ(fs::status(dir_ / "state/control.db").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  Start();
}

// Projects group a tenant's deployments: created explicitly or by the first deploy naming one,
// listed with their deployments, per tenant (another tenant may use the same name and never sees
// ours), deletable only when empty.
TEST_F(ControlTest, ProjectsGroupATenantsDeployments) {
  Reply created =
      Call("POST", "/v1/projects", dev_, R"({"name": "shop", "description": "the storefront"})");
  ASSERT_EQ(created.status, 201) << created.body.dump();
  EXPECT_EQ(created.body["name"], "shop");
  EXPECT_EQ(created.body["description"], "the storefront");
  EXPECT_EQ(created.body["deployments"], Json::array());
  EXPECT_EQ(Reason(Call("POST", "/v1/projects", dev_, R"({"name": "shop"})")),
            "control.project.exists");
  EXPECT_EQ(Reason(Call("POST", "/v1/projects", dev_, R"({"name": "Not A Label"})")),
            "control.request.bad_field");

  Json body = {{"name", "shop-api"},
               {"project", "shop"},
               {"source", {{"type", "path"}, {"path", (dir_ / "app").string()}}}};
  Reply deployed = Call("POST", "/v1/deployments", dev_, body.dump());
  ASSERT_EQ(deployed.status, 202) << deployed.body.dump();
  EXPECT_EQ(deployed.body["project"], "shop");
  // A project named for the first time by a deploy is created.
  body = {{"name", "blog"},
          {"project", "content"},
          {"source", {{"type", "path"}, {"path", (dir_ / "app").string()}}}};
  ASSERT_EQ(Call("POST", "/v1/deployments", dev_, body.dump()).status, 202);
  WaitForState("shop-api", "running");
  WaitForState("blog", "running");

  Reply list = Call("GET", "/v1/projects", dev_);
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.body["projects"].size(), 2u) << list.body.dump();
  EXPECT_EQ(list.body["projects"][0]["name"], "content");
  EXPECT_EQ(list.body["projects"][0]["deployments"], (Json{"blog"}));
  EXPECT_EQ(list.body["projects"][1]["deployments"], (Json{"shop-api"}));
  EXPECT_EQ(Call("GET", "/v1/projects/shop", dev_).body["deployments"], (Json{"shop-api"}));

  // Another tenant: none of ours, the same 404 as a missing one, and its own "shop".
  std::string acme = Call("POST", "/v1/tenants", dev_, R"({"name": "acme"})").body["token"];
  EXPECT_TRUE(Call("GET", "/v1/projects", acme).body["projects"].empty());
  for (const char* method : {"GET", "DELETE"}) {
    Reply r = Call(method, "/v1/projects/shop", acme);
    EXPECT_EQ(r.status, 404) << method;
    EXPECT_EQ(Reason(r), "control.project.not_found") << method;
  }
  EXPECT_EQ(Call("POST", "/v1/projects", acme, R"({"name": "shop"})").status, 201);
  EXPECT_EQ(Call("GET", "/v1/projects/shop", dev_).body["description"], "the storefront");

  // Not while it holds a deployment; then it goes.
  Reply busy = Call("DELETE", "/v1/projects/shop", dev_);
  EXPECT_EQ(busy.status, 409);
  EXPECT_EQ(Reason(busy), "control.project.not_empty");
  ASSERT_EQ(Call("DELETE", "/v1/deployments/shop-api", dev_).status, 200);
  Reply gone = Call("DELETE", "/v1/projects/shop", dev_);
  EXPECT_EQ(gone.status, 200) << gone.body.dump();
  EXPECT_EQ(Call("GET", "/v1/projects/shop", dev_).status, 404);
  EXPECT_EQ(Call("GET", "/v1/projects/shop", acme).status, 200);  // acme's is untouched

  // The grouping survives a restart (schema version 2).
  Stop();
  Start();
  EXPECT_EQ(Call("GET", "/v1/deployments/blog", dev_).body["project"], "content");
}

// A control.db written by the previous release (schema version 1, no projects) opens, keeps its
// deployments (no project) and takes projects from then on.
TEST_F(ControlTest, AVersionOneDatabaseIsMigrated) {
  Stop();
  for (const char* f : {"control.db", "control.db-wal", "control.db-shm"}) {
    fs::remove(dir_ / "state" / f);
  }
  {
    auto db = db::Database::Open(dir_ / "state" / "control.db");
    ASSERT_TRUE(db.ok()) << db.error();
    // Version 1 as the previous release created it (store.cc's first migration).
    ASSERT_TRUE(
        db->Exec("CREATE TABLE tenants (name TEXT PRIMARY KEY, admin INTEGER NOT NULL,"
                 "  created_at INTEGER NOT NULL);"
                 "CREATE TABLE tokens (sha256 TEXT PRIMARY KEY, tenant TEXT NOT NULL);"
                 "CREATE TABLE uploads (id TEXT PRIMARY KEY, tenant TEXT NOT NULL,"
                 "  path TEXT NOT NULL, sha256 TEXT NOT NULL, bytes INTEGER NOT NULL);"
                 "CREATE TABLE deployments (name TEXT PRIMARY KEY, tenant TEXT NOT NULL,"
                 "  state TEXT NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL,"
                 "  environment TEXT NOT NULL, branch TEXT NOT NULL, source TEXT NOT NULL,"
                 "  build_hash TEXT NOT NULL, manifest_json TEXT NOT NULL,"
                 "  build_dir TEXT NOT NULL, config_json TEXT NOT NULL,"
                 "  instances_desired INTEGER NOT NULL, instances_explicit INTEGER NOT NULL,"
                 "  revision INTEGER NOT NULL, created_at INTEGER NOT NULL,"
                 "  updated_at INTEGER NOT NULL);"
                 "CREATE INDEX deployments_tenant ON deployments (tenant, name);"
                 "CREATE TABLE instances (id TEXT PRIMARY KEY, deployment TEXT NOT NULL,"
                 "  state TEXT NOT NULL, address TEXT NOT NULL, build_hash TEXT NOT NULL,"
                 "  started_at INTEGER NOT NULL, reason TEXT NOT NULL);"
                 "CREATE TABLE attestations (id TEXT PRIMARY KEY, deployment TEXT NOT NULL,"
                 "  instance_id TEXT NOT NULL, bundle TEXT NOT NULL,"
                 "  created_at INTEGER NOT NULL);"
                 "CREATE TABLE signatures (deployment TEXT NOT NULL, build_hash TEXT NOT NULL,"
                 "  signature TEXT NOT NULL, message TEXT NOT NULL,"
                 "  developer_id TEXT NOT NULL, key_id TEXT NOT NULL,"
                 "  created_at INTEGER NOT NULL);"
                 "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                 "  deployment TEXT NOT NULL, time INTEGER NOT NULL, kind TEXT NOT NULL,"
                 "  message TEXT NOT NULL, data TEXT NOT NULL);"
                 "CREATE TABLE logs (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                 "  deployment TEXT NOT NULL, instance_id TEXT NOT NULL,"
                 "  time INTEGER NOT NULL, stream TEXT NOT NULL, line TEXT NOT NULL);"
                 "INSERT INTO deployments VALUES ('old', 'dev', 'failed', 'x.y', 'm',"
                 "  'production', '', '{}', '', '', '', '{}', 1, 0, 1, 0, 0);"
                 "PRAGMA user_version = 1;")
            .ok());
  }
  Start();  // migrates to version 2; the dev tenant is created again with the same token file
  Reply old = Call("GET", "/v1/deployments/old", dev_);
  ASSERT_EQ(old.status, 200) << old.body.dump();
  EXPECT_EQ(old.body["state"], "failed");
  EXPECT_TRUE(old.body["project"].is_null());
  Json body = {{"name", "old"},
               {"project", "legacy"},
               {"source", {{"type", "path"}, {"path", (dir_ / "app").string()}}}};
  ASSERT_EQ(Call("POST", "/v1/deployments", dev_, body.dump()).status, 202);
  EXPECT_EQ(Call("GET", "/v1/projects/legacy", dev_).body["deployments"], (Json{"old"}));
}

TEST_F(ControlTest, BadRequestsAreRefusedWithStableReasons) {
  Json path_source = {{"type", "path"}, {"path", (dir_ / "app").string()}};
  for (const Json& body : std::vector<Json>{
           {{"name", "Bad_Name"}, {"source", path_source}},
           {{"name", "ok"}, {"source", path_source}, {"environment", "staging"}},
           {{"name", "ok"}, {"source", path_source}, {"instances", 21}},
           {{"name", "ok"}, {"source", path_source}, {"instances", -1}},
           {{"name", "ok"}, {"source", {{"type", "ftp"}}}},
           {{"name", "ok"}, {"source", {{"type", "path"}, {"path", "relative/app"}}}}}) {
    Reply r = Call("POST", "/v1/deployments", dev_, body.dump());
    EXPECT_EQ(r.status, 400) << body.dump();
    EXPECT_EQ(Reason(r), "control.request.bad_field") << body.dump();
  }
  Reply wrong_type = Call("POST", "/v1/deployments", dev_,
                          Json{{"name", "ok"}, {"source", path_source}, {"environment", 5}}.dump());
  EXPECT_EQ(wrong_type.status, 400) << wrong_type.body.dump();
  Reply no_upload =
      Call("POST", "/v1/deployments", dev_,
           Json{{"name", "ok"}, {"source", {{"type", "upload"}, {"upload_id", "upl_0"}}}}.dump());
  EXPECT_EQ(Reason(no_upload), "control.upload.not_found");
  EXPECT_EQ(Reason(Call("GET", "/v1/deployments/x/events?after=abc", dev_)),
            "control.deployment.not_found");
  EXPECT_TRUE(Call("GET", "/v1/deployments", dev_).body["deployments"].empty());
  // Local folders only where the server allows them (lunald dev).
  Stop();
  allow_local_paths_ = false;
  Start();
  Reply path =
      Call("POST", "/v1/deployments", dev_, Json{{"name", "ok"}, {"source", path_source}}.dump());
  EXPECT_EQ(path.status, 403);
  EXPECT_EQ(Reason(path), "control.source.path_not_allowed");
  Reply platform = Call("GET", "/v1/platform", dev_);
  EXPECT_EQ(platform.body["mode"], "production");
  EXPECT_EQ(platform.body["simulation"], false);
  EXPECT_EQ(platform.body["sim_root_pem"], nullptr);
}

TEST_F(ControlTest, NodeRefusalFailsTheDeploymentWithTheReason) {
  ASSERT_EQ(Deploy("hello", dev_).status, 202);
  Json first = WaitForState("hello", "running");
  std::string hash = Call("GET", "/v1/deployments/hello", dev_).body["build_hash"];
  node_.Refuse(hash);
  // Delete and deploy again under a new name: the same build, refused by the node.
  ASSERT_EQ(Deploy("refused", dev_).status, 202);
  Json events = WaitForState("refused", "failed");
  Reply d = Call("GET", "/v1/deployments/refused", dev_);
  EXPECT_EQ(d.body["state"], "failed");
  EXPECT_EQ(d.body["reason"], "node.allow_list.not_listed");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back()["kind"], "failed");
  EXPECT_EQ(events.back()["data"]["reason"], "node.allow_list.not_listed");
  Reply ev = Call("GET", "/v1/deployments/refused/evidence", dev_);
  EXPECT_EQ(ev.status, 409);
  EXPECT_EQ(Reason(ev), "control.deployment.not_running");
}

TEST_F(ControlTest, ExitedInstanceIsReplacedAndScaleAddsAndStops) {
  ASSERT_EQ(Deploy("hello", dev_).status, 202);
  WaitForState("hello", "running");
  Reply d = Call("GET", "/v1/deployments/hello", dev_);
  std::string first = d.body["instances"][0]["id"];
  node::NodeEvent exited;
  exited.kind = node::NodeEvent::Kind::kExited;
  exited.instance.instance_id = first;
  exited.instance.reason = "node.instance.killed";
  cp_->OnNodeEvent(exited);
  ASSERT_TRUE(Eventually([&] {
    auto r = routes_.Get("hello");
    return node_.Launches() == 2 && r && r->backends.size() == 1 &&
           r->backends[0].instance_id != first;
  }));
  Reply inst = Call("GET", "/v1/deployments/hello/instances", dev_);
  ASSERT_EQ(inst.body["instances"].size(), 2u);
  EXPECT_EQ(inst.body["instances"][0]["state"], "exited");
  EXPECT_EQ(inst.body["instances"][0]["reason"], "node.instance.killed");
  EXPECT_EQ(inst.body["instances"][1]["state"], "running");
  // The replacement's evidence is now the deployment's attestation.
  EXPECT_EQ(Call("GET", "/v1/deployments/hello/evidence", dev_).body["instance_id"],
            inst.body["instances"][1]["id"]);

  Reply up = Call("POST", "/v1/deployments/hello/scale", dev_, R"({"instances": 3})");
  ASSERT_EQ(up.status, 200) << up.body.dump();
  EXPECT_EQ(up.body["instances_desired"], 3);
  ASSERT_TRUE(Eventually([&] {
    auto r = routes_.Get("hello");
    return r && r->backends.size() == 3;
  }));
  EXPECT_EQ(node_.Launches(), 4);
  Reply down = Call("POST", "/v1/deployments/hello/scale", dev_, R"({"instances": 1})");
  ASSERT_EQ(down.status, 200);
  EXPECT_EQ(node_.Stops().size(), 2u);
  auto r = routes_.Get("hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->backends.size(), 1u);
  EXPECT_EQ(Reason(Call("POST", "/v1/deployments/hello/scale", dev_, R"({"instances": 21})")),
            "control.request.bad_field");
}

TEST_F(ControlTest, ACrashLoopIsRelaunchedWithBackOff) {
  ASSERT_EQ(Deploy("hello", dev_).status, 202);
  WaitForState("hello", "running");
  auto exit_current = [&] {
    std::string id = Call("GET", "/v1/deployments/hello", dev_).body["instances"][0]["id"];
    node::NodeEvent exited;
    exited.kind = node::NodeEvent::Kind::kExited;
    exited.instance.instance_id = id;
    cp_->OnNodeEvent(exited);
  };
  auto running = [&] {
    return Call("GET", "/v1/deployments/hello", dev_).body["instances"].size() == 1;
  };
  exit_current();  // the first quick exit: replaced at once
  ASSERT_TRUE(Eventually([&] { return node_.Launches() == 2 && running(); }, 2s));
  exit_current();  // the second in a row: one second's pause
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(node_.Launches(), 2);
  ASSERT_TRUE(Eventually([&] { return node_.Launches() == 3 && running(); }, 5s));
}

TEST_F(ControlTest, RecoverRelaunchesAfterReopeningTheStore) {
  ASSERT_EQ(Deploy("hello", dev_, 2).status, 202);
  WaitForState("hello", "running");
  ASSERT_TRUE(Eventually([&] { return node_.Launches() == 2; }));
  std::string old_att = Call("GET", "/v1/deployments/hello/evidence", dev_).body["id"];
  std::string token = dev_;
  Stop();
  Start();
  EXPECT_EQ(dev_, token);  // the same dev token after a restart
  ASSERT_TRUE(cp_->Recover().ok());
  ASSERT_TRUE(Eventually([&] {
    return node_.Launches() == 4 &&
           Call("GET", "/v1/deployments/hello", dev_).body["state"] == "running";
  }));
  Reply inst = Call("GET", "/v1/deployments/hello/instances", dev_);
  int exited = 0, running = 0;
  for (const Json& i : inst.body["instances"]) {
    if (i["state"] == "exited") {
      ++exited;
      EXPECT_EQ(i["reason"], "control.restarted");
    }
    if (i["state"] == "running") ++running;
  }
  EXPECT_EQ(exited, 2);
  ASSERT_TRUE(Eventually(
      [&] { return routes_.Get("hello") && routes_.Get("hello")->backends.size() == 2; }));
  std::string new_att = Call("GET", "/v1/deployments/hello/evidence", dev_).body["id"];
  EXPECT_NE(new_att, old_att);  // a fresh attestation
}

TEST_F(ControlTest, LogsLongPollReturnsNewLines) {
  ASSERT_EQ(Deploy("hello", dev_).status, 202);
  WaitForState("hello", "running");
  std::string id = Call("GET", "/v1/deployments/hello", dev_).body["instances"][0]["id"];
  // The instance's own lines (the build's may still be committing: they come in batches).
  Reply before = Call("GET", fmt::format("/v1/deployments/hello/logs?instance={}", id), dev_);
  ASSERT_TRUE(before.body["logs"].empty());
  auto start = std::chrono::steady_clock::now();
  std::thread later([&] {
    std::this_thread::sleep_for(500ms);
    node::NodeEvent log;
    log.kind = node::NodeEvent::Kind::kLog;
    log.instance.instance_id = id;
    log.instance.deployment = "hello";
    log.stream = "stdout";
    for (int i = 0; i < 3; ++i) {
      log.line = fmt::format("line {}", i);
      cp_->OnNodeEvent(log);
    }
  });
  Reply r = Call("GET", fmt::format("/v1/deployments/hello/logs?instance={}&wait=10", id), dev_);
  later.join();
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.status, 200);
  ASSERT_FALSE(r.body["logs"].empty());
  EXPECT_EQ(r.body["logs"][0]["line"], "line 0");
  EXPECT_EQ(r.body["logs"][0]["instance_id"], id);
  EXPECT_EQ(r.body["logs"][0]["stream"], "stdout");
  EXPECT_GE(took, 400ms);
  EXPECT_LT(took, 5s);
  // By instance, everything the batch committed.
  ASSERT_TRUE(Eventually([&] {
    return Call("GET", fmt::format("/v1/deployments/hello/logs?instance={}", id), dev_)
               .body["logs"]
               .size() == 3;
  }));
  // Nothing new: the poll returns empty after its wait.
  Reply empty =
      Call("GET", fmt::format("/v1/deployments/hello/logs?after={}&wait=1", INT64_MAX - 1), dev_);
  EXPECT_TRUE(empty.body["logs"].empty());
}

TEST_F(ControlTest, UploadsAreLimitedAndBuildable) {
  Reply big =
      Call("POST", "/v1/uploads", dev_, std::string(100 << 10, 'x'), "application/octet-stream");
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(Reason(big), "http.body_too_large");
  auto tar = RunProcess(
      {"tar", "-czf", (dir_ / "app.tar.gz").string(), "-C", (dir_ / "app").string(), "."});
  ASSERT_EQ(tar.exit_code, 0) << tar.err;
  std::string bytes = ReadFileText(dir_ / "app.tar.gz");
  Reply up = Call("POST", "/v1/uploads", dev_, bytes, "application/octet-stream");
  ASSERT_EQ(up.status, 201) << up.body.dump();
  EXPECT_EQ(up.body["sha256"], HexEncode(crypto::Sha256(AsBytes(bytes))));
  EXPECT_EQ(up.body["bytes"], bytes.size());
  Json body = {{"name", "fromtar"},
               {"source", {{"type", "upload"}, {"upload_id", up.body["upload_id"]}}}};
  ASSERT_EQ(Call("POST", "/v1/deployments", dev_, body.dump()).status, 202);
  WaitForState("fromtar", "running");
  // Another tenant cannot build from it.
  std::string acme = Call("POST", "/v1/tenants", dev_, R"({"name": "acme"})").body["token"];
  body["name"] = "stolen";
  Reply stolen = Call("POST", "/v1/deployments", acme, body.dump());
  EXPECT_EQ(stolen.status, 404);
  EXPECT_EQ(Reason(stolen), "control.upload.not_found");
}

TEST_F(ControlTest, SignaturesAreVerifiedBeforeTheyAreStored) {
  if (!lunal::testing::HaveProgram("ssh-keygen")) GTEST_SKIP() << "ssh-keygen not installed";
  ASSERT_EQ(Deploy("hello", dev_).status, 202);
  WaitForState("hello", "running");
  std::string hash = Call("GET", "/v1/deployments/hello", dev_).body["build_hash"];
  auto gen = RunProcess({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dev@example.com",
                         "-f", (dir_ / "id").string()});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  auto sign = [&](const std::string& message) {
    WriteFile(dir_ / "hash.txt", message);
    fs::remove(dir_ / "hash.txt.sig");
    auto r = RunProcess({"ssh-keygen", "-Y", "sign", "-f", (dir_ / "id").string(), "-n", "lunal",
                         (dir_ / "hash.txt").string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return ReadFileText(dir_ / "hash.txt.sig");
  };
  std::string good = sign(hash + "\n");
  // A signature over other bytes: invalid, and not stored.
  std::string other_hash = "sha256:" + std::string(64, 'a');
  std::string over_other = sign(other_hash + "\n");
  Reply bad = Call("POST", "/v1/deployments/hello/signatures", dev_,
                   Json{{"signature", over_other}}.dump());
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(Reason(bad), "deployment.signature.invalid");
  Reply wrong = Call("POST", "/v1/deployments/hello/signatures", dev_,
                     Json{{"signature", over_other}, {"message", other_hash + "\n"}}.dump());
  EXPECT_EQ(wrong.status, 422);
  EXPECT_EQ(Reason(wrong), "deployment.signature.wrong_hash");
  std::string garbage = good;
  garbage[garbage.size() / 2] = garbage[garbage.size() / 2] == 'A' ? 'B' : 'A';
  Reply broken =
      Call("POST", "/v1/deployments/hello/signatures", dev_, Json{{"signature", garbage}}.dump());
  EXPECT_EQ(broken.status, 422);
  EXPECT_EQ(Reason(broken), "deployment.signature.invalid");
  EXPECT_FALSE(Call("GET", "/v1/deployments/hello/evidence", dev_).body.contains("signature"));

  Reply ok =
      Call("POST", "/v1/deployments/hello/signatures", dev_, Json{{"signature", good}}.dump());
  ASSERT_EQ(ok.status, 201) << ok.body.dump();
  auto fp = RunProcess({"ssh-keygen", "-l", "-f", (dir_ / "id.pub").string()});
  ASSERT_EQ(fp.exit_code, 0);
  std::string key_id = ok.body["key_id"];
  EXPECT_NE(fp.out.find(key_id), std::string::npos) << fp.out;  // as ssh-keygen -l prints it
  EXPECT_EQ(ok.body["developer_id"], key_id);                   // no allowed signers configured
  EXPECT_EQ(ok.body["build_hash"], hash);
  EXPECT_EQ(ok.body["namespace"], "lunal");
  Reply ev = Call("GET", "/v1/deployments/hello/evidence", dev_);
  ASSERT_TRUE(ev.body.contains("signature"));
  EXPECT_EQ(ev.body["signature"]["signature"], good);
  EXPECT_EQ(ev.body["signature"]["signed_message"], hash + "\n");
}

#ifdef LUNAL_CONTROL_TEST_REAL_EVIDENCE
// With real sim-tdx evidence (made as a node makes it), the server-side record verifies.
class ControlRealEvidenceTest : public ControlTest {
 protected:
  void SetUp() override {
    if (!lunal::testing::HaveProgram("bwrap")) GTEST_SKIP() << "bwrap is not installed";
    auto root = attest::sim::SimulationRoot::Open(dir_ / "real/sim", SystemClock::Instance());
    ASSERT_TRUE(root.ok()) << root.error();
    sim_root_ = *root;
    node_.real_dir_ = dir_ / "real";
    ControlTest::SetUp();
  }
};

TEST_F(ControlRealEvidenceTest, AttestationRecordVerifies) {
  ASSERT_EQ(Deploy("hello", dev_).status, 202);
  WaitForState("hello", "running");
  Reply rec = Call("GET", "/v1/deployments/hello/attestation", dev_);
  ASSERT_EQ(rec.status, 200) << rec.body.dump();
  EXPECT_EQ(rec.body["status"], "verified") << rec.body.dump(2);
  EXPECT_TRUE(rec.body.contains("last_verified"));
  Reply d = Call("GET", "/v1/deployments/hello", dev_);
  EXPECT_EQ(d.body["attestation"]["status"], "verified");
  EXPECT_EQ(d.body["attestation"]["simulated"], true);
  Reply ev = Call("GET", "/v1/deployments/hello/evidence", dev_);
  EXPECT_FALSE(ev.body["collateral"].empty());
  EXPECT_EQ(ev.body["sim_root_pem"], sim_root_->root_certificate().ToPem());
  Reply platform = Call("GET", "/v1/platform", dev_);
  EXPECT_EQ(platform.body["simulation"], true);
  EXPECT_EQ(platform.body["sim_root_sha256"], sim_root_->FingerprintHex());
  auto route = routes_.Get("hello");
  ASSERT_TRUE(route);
  EXPECT_TRUE(route->allow_simulated);

  // A developer signature joins the record.
  if (lunal::testing::HaveProgram("ssh-keygen")) {
    std::string hash = d.body["build_hash"];
    auto gen = RunProcess({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dev@example.com",
                           "-f", (dir_ / "id").string()});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    WriteFile(dir_ / "hash.txt", hash + "\n");
    auto signed_file = RunProcess({"ssh-keygen", "-Y", "sign", "-f", (dir_ / "id").string(), "-n",
                                   "lunal", (dir_ / "hash.txt").string()});
    ASSERT_EQ(signed_file.exit_code, 0) << signed_file.err;
    Reply sig = Call("POST", "/v1/deployments/hello/signatures", dev_,
                     Json{{"signature", ReadFileText(dir_ / "hash.txt.sig")}}.dump());
    ASSERT_EQ(sig.status, 201) << sig.body.dump();
    Reply signed_rec = Call("GET", "/v1/deployments/hello/attestation", dev_);
    EXPECT_EQ(signed_rec.body["status"], "verified") << signed_rec.body.dump(2);
    auto& sv = signed_rec.body["attestation"]["signature_verification"];
    EXPECT_EQ(sv["signature_valid"], true) << signed_rec.body.dump(2);
    EXPECT_EQ(sv["key_id"], sig.body["key_id"]);
  }

  // Evidence changed in the database no longer verifies.
  Stop();
  {
    auto db = db::Database::Open(dir_ / "state/control.db");
    ASSERT_TRUE(db.ok()) << db.error();
    auto st = db->Prepare(
        "UPDATE attestations SET bundle = replace(bundle, '\"nonce\":\"', "
        "'\"nonce\":\"00')");
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(st->Run().ok());
    ASSERT_EQ(db->Changes(), 1);
  }
  Start();
  Reply tampered = Call("GET", "/v1/deployments/hello/attestation", dev_);
  ASSERT_EQ(tampered.status, 200) << tampered.body.dump();
  EXPECT_NE(tampered.body["status"], "verified") << tampered.body.dump(2);
  EXPECT_EQ(Call("GET", "/v1/deployments/hello", dev_).body["attestation"]["status"],
            tampered.body["status"]);
}
#endif

}  // namespace
}  // namespace lunal::control
