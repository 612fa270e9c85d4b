// `lunald control` as its own process (issue 8: "Roles can also run as separate lunald
// processes talking over mesh mTLS"): lunald cds, node, gateway and control run as four processes
// sharing one simulation root folder; node, gateway and control each enrol a mesh identity at the
// CDS, and control reaches the node's API and the gateway's admin API over mesh mTLS only. The
// platform is driven only through the `lunal` CLI and the gateway's public port, as a developer
// would. The operator (this test) signs the allow-list: the platform roles' build hash (the lunald
// executable, for lunal/gateway, lunal/node and lunal/control) and the hello-python build's hash,
// computed by `lunal build` of the
// same source the control plane builds (builds are reproducible). A deploy of that source runs and
// answers through the gateway; a deploy of a changed copy, never listed, fails with
// control.allow_list.not_listed (the control plane never signs); the instance's log lines reach
// the control plane through the node's event feed; SIGTERM stops all four (exit 0).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon_test_support.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/cds/manifest.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/common/json.h"
#include "lunal/common/time.h"
#include "lunal/control/remote.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/dsse.h"
#include "lunal/crypto/keys.h"
#include "lunal/net/client.h"
#include "lunal/net/server.h"
#include "lunal/node/client.h"
#include "lunal/node/event_feed.h"
#include "lunal/testing/testing.h"

namespace lunal {
namespace {

using lunald_testing::AllowEntry;
using lunald_testing::Daemon;
using lunald_testing::LunaldPath;
using lunald_testing::SignAllowList;
namespace fs = std::filesystem;
using testing::ReadFileText;
using testing::WriteFile;

std::string LunalCli() { return (testing::BinaryDir() / "src/cli/lunal").string(); }

void PutAllowList(const std::string& cds_url, const std::string& envelope) {
  net::HttpClient client;
  auto r = client.SendJson(
      {.method = "PUT", .url = cds_url + "/v1/cds/manifest", .headers = {}, .body = envelope});
  ASSERT_TRUE(r.ok()) << r.error();
}

void CopyExample(const fs::path& to) {
  fs::create_directories(to);
  fs::copy(testing::SourceDir() / "examples" / "hello-python", to, fs::copy_options::recursive);
}

TEST(LunaldControlTest, HelpShowsTheConfiguration) {
  auto r = testing::RunProcess({LunaldPath(), "control", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* needle :
       {"node_url:", "node_deployment:", "gateway_admin_url:", "gateway_deployment:",
        "operator_key:", "cds_url:", "control.allow_list.not_listed", "\"token\"", "mesh mTLS"}) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle << " missing from:\n" << r.out;
  }
}

TEST(LunaldControlTest, ConfigurationErrorsNameTheirPlace) {
  testing::TempDir dir;
  WriteFile(dir / "typo.yaml", "control:\n  state_dir: s\n  node_ur: x\n");
  auto typo =
      testing::RunProcess({LunaldPath(), "--config", (dir / "typo.yaml").string(), "control"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("typo.yaml:3:3: control.node_ur: unknown key"), std::string::npos)
      << typo.err;
  WriteFile(dir / "short.yaml",
            "control:\n  state_dir: s\n  node_url: https://127.0.0.1:1\n"
            "  gateway_url: http://localhost:1\n  gateway_admin_url: https://127.0.0.1:1\n"
            "  cds_url: http://127.0.0.1:1\n  operator_key: op.pem\n");
  auto missing =
      testing::RunProcess({LunaldPath(), "--config", (dir / "short.yaml").string(), "control"});
  EXPECT_EQ(missing.exit_code, 2);
  // The sim root attests the control plane's own mesh identity: without it there is none.
  EXPECT_NE(missing.err.find("control.sim_root: required"), std::string::npos) << missing.err;
  // Bearer tokens between roles are gone (mesh mTLS): a stale key is an error, not ignored.
  WriteFile(dir / "stale.yaml", "control:\n  state_dir: s\n  node_token_file: t\n");
  auto stale =
      testing::RunProcess({LunaldPath(), "--config", (dir / "stale.yaml").string(), "control"});
  EXPECT_EQ(stale.exit_code, 2);
  EXPECT_NE(stale.err.find("control.node_token_file: unknown key"), std::string::npos) << stale.err;
}

// ListedByOperator against a stand-in CDS whose GET /v1/cds/manifest answers `*served` (the
// CDS is trusted only to deliver the list: the signature is what counts).
TEST(LunaldControlTest, ListedByOperatorAllowsOnlyWhatTheOperatorSigned) {
  auto op = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  auto other = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  ASSERT_TRUE(op.ok() && other.ok());
  const std::string listed = "sha256:" + std::string(64, 'a');
  const std::string unlisted = "sha256:" + std::string(64, 'b');
  auto served = std::make_shared<Json>(Json{{"active", nullptr}, {"previous", nullptr}});
  net::Router router;
  ASSERT_TRUE(router
                  .Add("GET", "/v1/cds/manifest",
                       [served](net::HttpRequest&) {
                         return net::HttpResponse{.status = 200,
                                                  .headers = {{"Content-Type", "application/json"}},
                                                  .body = served->dump()};
                       })
                  .ok());
  net::HttpServer cds({.bind_address = "127.0.0.1", .port = 0}, std::move(router));
  ASSERT_TRUE(cds.Start().ok());
  const std::string cds_url = "http://127.0.0.1:" + std::to_string(cds.port());
  auto authority = control::ListedByOperator::Create(cds_url, *(*op->PublicKey()).ToPem());
  ASSERT_TRUE(authority.ok()) << authority.error();

  Status none = (*authority)->Allow("acme", "api", listed);
  EXPECT_EQ(none.code(), Code::kPolicyViolation);
  EXPECT_EQ(none.reason(), "control.allow_list.not_listed") << none;

  *served = {
      {"active",
       {{"version", 3},
        {"envelope", SignAllowList(*op, 3, Json::array({AllowEntry("acme", "api", listed)}))}}}};
  EXPECT_TRUE((*authority)->Allow("acme", "api", listed).ok());
  Status other_hash = (*authority)->Allow("acme", "api", unlisted);
  EXPECT_EQ(other_hash.reason(), "control.allow_list.not_listed") << other_hash;
  // The message tells the operator what to list, for whom, and where.
  EXPECT_NE(other_hash.message().find(unlisted), std::string::npos) << other_hash;
  EXPECT_NE(other_hash.message().find("acme/api"), std::string::npos) << other_hash;
  EXPECT_NE(other_hash.message().find(cds_url), std::string::npos) << other_hash;
  EXPECT_EQ((*authority)->Allow("acme", "web", listed).reason(), "control.allow_list.not_listed");

  // The same list signed by someone else (a compromised CDS) allows nothing.
  *served = {{"active",
              {{"version", 4},
               {"envelope",
                SignAllowList(*other, 4, Json::array({AllowEntry("acme", "api", unlisted)}))}}}};
  Status forged = (*authority)->Allow("acme", "api", unlisted);
  EXPECT_EQ(forged.code(), Code::kVerificationFailed) << forged;
  EXPECT_EQ(forged.reason(), "cds.manifest.bad_signature") << forged;

  cds.Stop(std::chrono::seconds(1));
  Status gone = (*authority)->Allow("acme", "api", listed);
  EXPECT_EQ(gone.code(), Code::kUnavailable) << gone;
  EXPECT_EQ(gone.reason(), "control.allow_list.unavailable") << gone;

  auto bad_key = control::ListedByOperator::Create(cds_url, "not a key");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_EQ(bad_key.error().reason(), "control.allow_list.bad_key");
}

// RemoteNode's event pump against a stand-in node feed (GET /v1/node/events, http.h): with a
// cursor file it resumes where the previous pump stopped, and starts again from the node's oldest
// event when the node's epoch changed (a restarted node numbers from 1 again).
class FakeFeed {
 public:
  FakeFeed() {
    net::Router router;
    EXPECT_TRUE(router
                    .Add("GET", "/v1/node/events",
                         [this](net::HttpRequest& req) {
                           const std::uint64_t after =
                               std::stoull(std::string(req.Query("after").value_or("0")));
                           std::lock_guard lock(mu_);
                           Json events = Json::array();
                           std::uint64_t next = after;
                           for (std::uint64_t seq = after + 1; seq <= lines_.size(); ++seq) {
                             node::SequencedEvent e{.seq = seq,
                                                    .event = {.kind = node::NodeEvent::Kind::kLog,
                                                              .instance = {},
                                                              .stream = "stdout",
                                                              .line = lines_[seq - 1]}};
                             e.event.instance.instance_id = "i-1";
                             events.push_back(node::ToJson(e));
                             next = seq;
                           }
                           if (after >= lines_.size()) next = lines_.size();
                           return net::HttpResponse::Json(
                               200, {{"events", events}, {"next", next}, {"epoch", epoch_}});
                         })
                    .ok());
    server_ =
        std::make_unique<net::HttpServer>(net::ServerOptions{.threads = 2}, std::move(router));
    EXPECT_TRUE(server_->Start().ok());
  }
  void Set(std::string epoch, std::vector<std::string> lines) {
    std::lock_guard lock(mu_);
    epoch_ = std::move(epoch);
    lines_ = std::move(lines);
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

 private:
  std::mutex mu_;
  std::string epoch_;
  std::vector<std::string> lines_;
  std::unique_ptr<net::HttpServer> server_;
};

// The lines a fresh pump delivers until `expected` arrived (or 10 s passed).
std::vector<std::string> Follow(const std::string& url, const fs::path& cursor,
                                std::size_t expected) {
  std::mutex mu;
  std::vector<std::string> got;
  control::RemoteNode node({.base_url = url});
  node.FollowEvents(
      [&](const node::NodeEvent& e) {
        std::lock_guard lock(mu);
        got.push_back(e.line);
      },
      cursor);
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(mu);
      if (got.size() >= expected) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // nothing more may arrive
  node.StopFollowing();
  std::lock_guard lock(mu);
  return got;
}

TEST(LunaldControlTest, NodeEventPumpResumesFromItsCursorAndNoticesANodeRestart) {
  testing::TempDir dir;
  FakeFeed feed;
  const fs::path cursor = dir / "node-events.cursor";
  const std::string e1(32, 'a'), e2(32, 'b');
  feed.Set(e1, {"one", "two", "three"});
  EXPECT_EQ(Follow(feed.Url(), cursor, 3), (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(ReadFileText(cursor), e1 + " 3\n");

  // The same node, two more lines: a restarted control plane gets only those.
  feed.Set(e1, {"one", "two", "three", "four", "five"});
  EXPECT_EQ(Follow(feed.Url(), cursor, 2), (std::vector<std::string>{"four", "five"}));
  EXPECT_EQ(ReadFileText(cursor), e1 + " 5\n");

  // The node restarted (another epoch, numbering from 1): everything it holds, from the start.
  feed.Set(e2, {"uno", "dos"});
  EXPECT_EQ(Follow(feed.Url(), cursor, 2), (std::vector<std::string>{"uno", "dos"}));
  EXPECT_EQ(ReadFileText(cursor), e2 + " 2\n");

  // An unreadable cursor means "from the oldest".
  WriteFile(cursor, "garbage");
  EXPECT_EQ(Follow(feed.Url(), cursor, 2), (std::vector<std::string>{"uno", "dos"}));
}

TEST(LunaldControlTest, FourProcessesDeployOnlyWhatTheOperatorListed) {
  const fs::path instance_agent = testing::BinaryDir() / "src/lunald/lunald-instance";
  if (::access(instance_agent.c_str(), X_OK) != 0) GTEST_SKIP() << "lunald-instance is not built";
  if (::access(LunalCli().c_str(), X_OK) != 0) GTEST_SKIP() << "the lunal CLI is not built";
  if (!testing::HaveProgram("bwrap")) GTEST_SKIP() << "bwrap is not installed";
  testing::TempDir dir;
  ASSERT_TRUE(attest::sim::SimulationRoot::Open(dir / "sim", SystemClock::Instance()).ok());
  auto op = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  ASSERT_TRUE(op.ok());
  WriteFile(dir / "operator.pem", *(*op->PublicKey()).ToPem());

  // The build hash the operator reviews: `lunal build` of the source about to be deployed.
  CopyExample(dir / "hello");
  auto built = testing::RunProcess(
      {LunalCli(), "build", (dir / "hello").string(), "--out", (dir / "hello-out").string()},
      {.stdin_data = {}, .timeout = std::chrono::seconds(300), .env = {}, .cwd = std::nullopt});
  ASSERT_EQ(built.exit_code, 0) << built.out << built.err;
  std::string app_hash = ReadFileText(dir / "hello-out" / "hash.txt");
  while (!app_hash.empty() && (app_hash.back() == '\n' || app_hash.back() == '\r')) {
    app_hash.pop_back();
  }
  ASSERT_TRUE(app_hash.starts_with("sha256:")) << app_hash;
  const std::string lunald_hash = lunald_testing::LunaldBuildHash();
  const Json platform = Json::array({AllowEntry("lunal", "gateway", lunald_hash),
                                     AllowEntry("lunal", "node", lunald_hash),
                                     AllowEntry("lunal", "control", lunald_hash)});

  WriteFile(dir / "cds.yaml",
            "cds:\n  state_dir: cds\n  operator_key: operator.pem\n"
            "attestation:\n  trust_simulation_root: sim\n");
  Daemon cds({"--config", (dir / "cds.yaml").string(), "cds"}, dir / "cds.stderr");
  const Json cds_line = cds.FirstJson();
  ASSERT_TRUE(cds_line.contains("url")) << ReadFileText(dir / "cds.stderr");
  const std::string cds_url = cds_line["url"];
  PutAllowList(cds_url, SignAllowList(*op, 1, platform));
  if (HasFatalFailure()) return;

  WriteFile(dir / "node.yaml",
            "node:\n  state_dir: node\n  sim_root: sim\n"
            "  operator_key: operator.pem\n"
            "  cds_url: " +
                cds_url + "\n  launch_timeout_seconds: 60\n");
  Daemon node({"--config", (dir / "node.yaml").string(), "node"}, dir / "node.stderr");
  const Json node_line = node.FirstJson();
  ASSERT_TRUE(node_line.contains("url")) << ReadFileText(dir / "node.stderr");

  WriteFile(dir / "gateway.yaml",
            "gateway:\n  cds_url: " + cds_url + "\n  sim_root: sim\n  threads: 2\n");
  Daemon gateway({"--config", (dir / "gateway.yaml").string(), "gateway"}, dir / "gateway.stderr");
  const Json gateway_line = gateway.FirstJson();
  ASSERT_TRUE(gateway_line.contains("admin_url")) << ReadFileText(dir / "gateway.stderr");
  const std::string gateway_url = gateway_line["url"];  // http://127.0.0.1:<port>
  // What deployment URLs are built from (the gateway routes <name>.localhost and /d/<name>/).
  const std::string public_url =
      "http://localhost:" + gateway_url.substr(gateway_url.rfind(':') + 1);

  WriteFile(dir / "control.yaml",
            "control:\n  listen: 127.0.0.1:0\n  threads: 4\n  state_dir: control\n"
            "  node_url: " +
                node_line["url"].get<std::string>() + "\n  gateway_url: " + public_url +
                "\n  gateway_admin_url: " + gateway_line["admin_url"].get<std::string>() +
                "\n  cds_url: " + cds_url + "\n  operator_key: operator.pem\n  sim_root: sim\n");
  Daemon control({"--config", (dir / "control.yaml").string(), "control"}, dir / "control.stderr");
  const Json control_line = control.FirstJson();
  ASSERT_TRUE(control_line.contains("url") && control_line.contains("token"))
      << ReadFileText(dir / "control.stderr");
  const std::vector<std::string> env = {"LUNAL_API=" + control_line["url"].get<std::string>(),
                                        "LUNAL_TOKEN=" + control_line["token"].get<std::string>()};
  auto all_logs = [&] {
    return "--- control\n" + ReadFileText(dir / "control.stderr") + "--- node\n" +
           ReadFileText(dir / "node.stderr") + "--- gateway\n" +
           ReadFileText(dir / "gateway.stderr");
  };

  // Version 2 names the build: the control plane's own build of the same source gives this hash.
  Json listed = platform;
  listed.push_back(AllowEntry("dev", "hello", app_hash));
  PutAllowList(cds_url, SignAllowList(*op, 2, listed));
  if (HasFatalFailure()) return;
  auto deployed = testing::RunProcess(
      {LunalCli(), "--json", "deploy", (dir / "hello").string(), "--name", "hello"},
      {.stdin_data = {}, .timeout = std::chrono::seconds(300), .env = env, .cwd = std::nullopt});
  ASSERT_EQ(deployed.exit_code, 0) << deployed.out << deployed.err << all_logs();
  // The outcome is the last document (pretty-printed; progress lines come first).
  const std::size_t start = deployed.out.rfind("\n{\n");
  ASSERT_NE(start, std::string::npos) << deployed.out;
  Json outcome = ParseJson(deployed.out.substr(start + 1)).value_or(Json());
  EXPECT_EQ(outcome["status"], "running") << deployed.out;
  EXPECT_EQ(outcome["deployment"]["build_hash"], app_hash) << deployed.out;
  EXPECT_EQ(outcome["url"], "http://hello." + public_url.substr(7) + "/") << deployed.out;

  // Through the gateway's public port, over mesh mTLS to the instance the node runs.
  net::HttpClient http;
  std::string body;
  for (int i = 0; i < 50; ++i) {
    auto r = http.Send(
        {.method = "GET", .url = gateway_url + "/d/hello/api/hello", .headers = {}, .body = {}});
    if (r.ok() && r->status == 200) {
      body = std::string(r->body.begin(), r->body.end());
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const Json hello = ParseJson(body).value_or(Json());
  EXPECT_EQ(hello["message"], "Hello from your secure Luna Lamp application!")
      << body << all_logs();

  // The instance's log lines travel node → event feed → the control plane's pump → its log
  // store: `lunal logs` shows the app's start line.
  std::string logs;
  for (int i = 0; i < 50 && logs.find("hello-python listening") == std::string::npos; ++i) {
    logs = testing::RunProcess({LunalCli(), "logs", "--app", "hello"},
                               {.stdin_data = {},
                                .timeout = std::chrono::seconds(30),
                                .env = env,
                                .cwd = std::nullopt})
               .out;
    if (logs.find("hello-python listening") == std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  EXPECT_NE(logs.find("hello-python listening"), std::string::npos) << logs << all_logs();

  // A changed copy: built, but the operator never listed its hash, and the control plane does
  // not sign allow-lists — the deployment fails and says why.
  CopyExample(dir / "changed");
  WriteFile(dir / "changed" / "extra.txt", "not reviewed by the operator\n");
  auto refused = testing::RunProcess(
      {LunalCli(), "--json", "deploy", (dir / "changed").string(), "--name", "changed"},
      {.stdin_data = {}, .timeout = std::chrono::seconds(300), .env = env, .cwd = std::nullopt});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.out.find("control.allow_list.not_listed"), std::string::npos)
      << refused.out << refused.err << all_logs();
  EXPECT_NE(refused.out.find("for dev/changed"), std::string::npos) << refused.out;
  EXPECT_EQ(refused.out.find(app_hash + " for dev/changed"), std::string::npos) << refused.out;

  // Every hop between the roles was mesh mTLS with the expected identities.
  const std::string node_err = ReadFileText(dir / "node.stderr");
  EXPECT_EQ(node_err.find("node.api.refused"), std::string::npos) << node_err;
  EXPECT_NE(ReadFileText(dir / "control.stderr").find("lunal://lunal/control/control-0"),
            std::string::npos);

  // A restarted control plane relaunches the deployment and stops the instance its previous run
  // left at the node (which keeps running across the restart): afterwards the node runs exactly
  // one dev/hello instance, a new one, and the gateway reaches it. The test looks at the node as
  // a control plane would, with a lunal/control identity of its own.
  auto observer = lunald_testing::EnrolTestIdentity(dir / "sim", cds_url, "lunal", "control",
                                                    "observer", lunald_hash);
  ASSERT_TRUE(observer.ok()) << observer.error();
  auto observer_tls = lunald_testing::PlatformClientTls(*observer, "lunal", "node");
  ASSERT_TRUE(observer_tls.ok()) << observer_tls.error();
  node::NodeClient node_view(
      {.base_url = node_line["url"].get<std::string>(), .token = {}, .tls = *observer_tls});
  auto hello_instances = [&]() {
    std::vector<std::string> ids;
    auto running = node_view.List();
    EXPECT_TRUE(running.ok()) << running.error();
    if (!running.ok()) return ids;
    for (const auto& i : *running) {
      if (i.deployment == "hello" && i.state == node::InstanceState::kRunning) {
        ids.push_back(i.instance_id);
      }
    }
    return ids;
  };
  const std::vector<std::string> before = hello_instances();
  ASSERT_EQ(before.size(), 1u);

  EXPECT_EQ(control.StopWith(SIGTERM), 0) << ReadFileText(dir / "control.stderr");
  Daemon restarted({"--config", (dir / "control.yaml").string(), "control"},
                   dir / "control2.stderr");
  const Json restarted_line = restarted.FirstJson();
  ASSERT_TRUE(restarted_line.contains("url")) << ReadFileText(dir / "control2.stderr");
  // A new port (listen 127.0.0.1:0), the same dev token (kept in state_dir).
  EXPECT_EQ(restarted_line["token"], control_line["token"]);
  const std::vector<std::string> env2 = {
      "LUNAL_API=" + restarted_line["url"].get<std::string>(),
      "LUNAL_TOKEN=" + restarted_line["token"].get<std::string>()};
  std::vector<std::string> after;
  for (int i = 0; i < 100; ++i) {
    after = hello_instances();
    if (after.size() == 1 && after.front() != before.front()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(after.size(), 1u) << ReadFileText(dir / "control2.stderr");
  EXPECT_NE(after.front(), before.front());
  body.clear();
  for (int i = 0; i < 50 && body.empty(); ++i) {
    auto r = http.Send(
        {.method = "GET", .url = gateway_url + "/d/hello/api/hello", .headers = {}, .body = {}});
    if (r.ok() && r->status == 200) body = std::string(r->body.begin(), r->body.end());
    if (body.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(ParseJson(body).value_or(Json())["message"],
            "Hello from your secure Luna Lamp application!")
      << body;

  // The restarted control plane resumed the node's event feed where the first one stopped (its
  // cursor in state_dir): the new instance's start line arrives, the old one's is not stored twice.
  auto count_listening = [&](const std::string& instance) {
    const std::string out =
        testing::RunProcess({LunalCli(), "logs", "--app", "hello", "--instance", instance},
                            {.stdin_data = {},
                             .timeout = std::chrono::seconds(30),
                             .env = env2,
                             .cwd = std::nullopt})
            .out;
    std::size_t n = 0;
    for (std::size_t at = out.find("hello-python listening"); at != std::string::npos;
         at = out.find("hello-python listening", at + 1)) {
      ++n;
    }
    return n;
  };
  for (int i = 0; i < 50 && count_listening(after.front()) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(count_listening(after.front()), 1u) << ReadFileText(dir / "control2.stderr");
  EXPECT_EQ(count_listening(before.front()), 1u) << ReadFileText(dir / "control2.stderr");
  EXPECT_TRUE(fs::exists(dir / "control" / "node-events.cursor"));

  EXPECT_EQ(restarted.StopWith(SIGTERM), 0) << ReadFileText(dir / "control2.stderr");
  EXPECT_EQ(gateway.StopWith(SIGTERM), 0) << ReadFileText(dir / "gateway.stderr");
  EXPECT_EQ(node.StopWith(SIGTERM), 0) << ReadFileText(dir / "node.stderr");
  EXPECT_EQ(cds.StopWith(SIGTERM), 0) << ReadFileText(dir / "cds.stderr");
}

}  // namespace
}  // namespace lunal
