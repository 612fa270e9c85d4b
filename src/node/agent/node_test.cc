// The node agent (node.h, http.h) with real bubblewrap sandboxes and a real simulation root.
//
//   - refusals (issue 8: "the node refuses any build hash not in the signed allow-list it holds";
//     "an artifact changed after its build is refused"), each before anything starts;
//   - the sandbox, with stand-in instance agents (a failing shell script, a python script that
//     speaks device.h: testdata/standin_instance_agent.py) so the node is tested on its own;
//   - the real instance agent (lunald-instance) against an in-process CDS, when it is built.
#include "lunal/node/node.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "internal.h"
#include "lunal/attest/engine/sim_source.h"
#include "lunal/attest/engine/verifier.h"
#include "lunal/attest/policy/policy.h"
#include "lunal/attest/report_data.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/attest/tdx/event_log_lunal.h"
#include "lunal/build/artifact_archive.h"
#include "lunal/build/manifest.h"
#include "lunal/cds/cds.h"
#include "lunal/cds/enroll.h"
#include "lunal/cds/http.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/dsse.h"
#include "lunal/crypto/keys.h"
#include "lunal/crypto/x509.h"
#include "lunal/net/client.h"
#include "lunal/net/server.h"
#include "lunal/node/client.h"
#include "lunal/node/event_feed.h"
#include "lunal/node/http.h"
#include "lunal/testing/testing.h"

namespace lunal::node {
namespace {

namespace fs = std::filesystem;
using lunal::testing::ReadFileText;
using lunal::testing::WriteFile;

template <typename T>
std::string ReasonOf(const Result<T>& r) {
  return r.ok() ? std::string("ok") : r.error().reason();
}

// acme/api may run `hashes`; `extra` entries are added as given.
std::string SignAllowList(const crypto::PrivateKey& key, std::int64_t version,
                          const std::vector<std::string>& hashes, Json extra = Json::array()) {
  Json entries = Json::array({{{"tenant", "acme"},
                               {"deployment", "api"},
                               {"build_hashes", hashes},
                               {"allow_simulated", true}}});
  for (Json& e : extra) entries.push_back(std::move(e));
  Json payload = {
      {"version", version}, {"issued_at", "2026-11-21T12:00:00Z"}, {"entries", entries}};
  crypto::DsseEnvelope env{.payload_type = std::string(cds::kAllowListPayloadType),
                           .payload = ToBytes(payload.dump()),
                           .signatures = {}};
  env.signatures.push_back(*crypto::SignDsse(env, key, "operator"));
  return crypto::SerializeDsse(env);
}

struct Built {
  fs::path artifact;
  std::string manifest_json;
  std::string build_hash;
};

// An artifact as the build pipeline lays it out (docs/formats/build-output.md: app/ in a
// deterministic tar) with its manifest: examples/hello-python, plus `extra` files in app/.
Built BuildApp(const fs::path& dir, const std::map<std::string, std::string>& extra = {}) {
  const fs::path out = dir / "out";
  fs::create_directories(out / "app");
  const fs::path example = lunal::testing::SourceDir() / "examples" / "hello-python";
  for (const char* name : {"app.py", "lunal.config.yaml"}) {
    WriteFile(out / "app" / name, ReadFileText(example / name));
  }
  for (const auto& [name, text] : extra) WriteFile(out / "app" / name, text);
  Built b;
  b.artifact = dir / "app.tar";
  EXPECT_TRUE(build::WriteDeterministicArchive(out, b.artifact).ok());
  build::BuildManifest m;
  m.source = {.tree = "sha256:" + std::string(64, '1'), .files = 2, .bytes = 100};
  m.environment = {{"LC_ALL", "C"}};
  m.artifacts = {{.path = "app.tar",
                  .digest = *internal::FileSha256(b.artifact),
                  .size = fs::file_size(b.artifact)}};
  b.manifest_json = *build::CanonicalManifest(m);
  b.build_hash = *build::BuildHash(m);
  return b;
}

// A stand-in instance agent: a file the sandbox runs as /run/lunal-bin/lunald-instance.
fs::path Script(const fs::path& path, std::string_view text) {
  WriteFile(path, text);
  fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  return path;
}

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = attest::sim::SimulationRoot::Open(dir_ / "sim", clock_);
    ASSERT_TRUE(root.ok()) << root.error();
    root_ = *root;
    operator_key_ = std::make_unique<crypto::PrivateKey>(
        *crypto::PrivateKey::Generate(crypto::KeyType::kEcP256));
    app_ = BuildApp(dir_ / "build");
    SetAllowList(SignAllowList(*operator_key_, 1, {app_.build_hash}));
  }

  void SetAllowList(std::string text) {
    std::lock_guard lock(mu_);
    allow_list_ = std::move(text);
  }

  NodeOptions Options(fs::path agent = "/usr/bin/false") {
    return NodeOptions{
        .state_dir = dir_ / "node",
        .sim_root = root_,
        .operator_key_pem = *(*operator_key_->PublicKey()).ToPem(),
        .manifest_source = [this]() -> Result<std::string> {
          std::lock_guard lock(mu_);
          ++fetches_;
          return allow_list_;
        },
        .cds_url = "http://127.0.0.1:9",
        .cds_ca_pem = "unused",
        .instance_agent = std::move(agent),
        .launch_timeout = std::chrono::milliseconds(20'000),
        .stop_grace = std::chrono::milliseconds(5'000),
        .on_event =
            [this](const NodeEvent& e) {
              std::lock_guard lock(mu_);
              events_.push_back(e);
              cv_.notify_all();
            },
        .clock = &clock_,
    };
  }

  std::unique_ptr<NodeAgent> MakeNode(NodeOptions options) {
    auto node = NodeAgent::Create(std::move(options));
    EXPECT_TRUE(node.ok()) << node.error();
    return node.ok() ? std::move(*node) : nullptr;
  }

  LaunchRequest Request(std::string id = "i-1") {
    return LaunchRequest{.tenant = "acme",
                         .deployment = "api",
                         .instance_id = std::move(id),
                         .build_hash = app_.build_hash,
                         .manifest_json = app_.manifest_json,
                         .artifact = app_.artifact,
                         .env = {{"GREETING", "hi"}}};
  }

  // Waits for an event of `kind` (for `id`), returning it.
  std::optional<NodeEvent> WaitFor(NodeEvent::Kind kind, std::string_view id,
                                   std::chrono::seconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mu_);
    std::optional<NodeEvent> found;
    cv_.wait_for(lock, timeout, [&] {
      for (const NodeEvent& e : events_) {
        if (e.kind == kind && e.instance.instance_id == id) found = e;
      }
      return found.has_value();
    });
    return found;
  }

  std::vector<std::string> Logs(std::string_view stream) {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const NodeEvent& e : events_) {
      if (e.kind == NodeEvent::Kind::kLog && e.stream == stream) out.push_back(e.line);
    }
    return out;
  }

  bool LogContains(std::string_view needle) {
    for (const std::string& line : Logs("stdout")) {
      if (line.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  lunal::testing::TempDir dir_;
  FakeClock clock_{SystemClock::Instance().Now()};
  std::shared_ptr<const attest::sim::SimulationRoot> root_;
  std::unique_ptr<crypto::PrivateKey> operator_key_;
  Built app_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string allow_list_;
  int fetches_ = 0;
  std::vector<NodeEvent> events_;
};

// ---- refusals: nothing is written or started ----

TEST_F(NodeTest, RefusesBuildHashNotInTheAllowList) {
  SetAllowList(SignAllowList(*operator_key_, 1, {"sha256:" + std::string(64, 'a')}));
  auto node = MakeNode(Options());
  ASSERT_NE(node, nullptr);
  auto r = node->Launch(Request());
  EXPECT_EQ(ReasonOf(r), "node.allow_list.not_listed");
  EXPECT_EQ(r.error().code(), Code::kPolicyViolation);
  auto refused = WaitFor(NodeEvent::Kind::kLaunchRefused, "i-1", std::chrono::seconds(1));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->instance.reason, "node.allow_list.not_listed");
  EXPECT_EQ(refused->instance.state, InstanceState::kFailed);
  EXPECT_FALSE(fs::exists(dir_ / "node" / "instances" / "i-1"));
  EXPECT_TRUE(node->List().empty());
  // Another deployment of the same tenant is not covered by acme/api's entry either.
  SetAllowList(SignAllowList(*operator_key_, 2, {app_.build_hash}));
  auto other = Request("i-2");
  other.deployment = "web";
  EXPECT_EQ(ReasonOf(node->Launch(other)), "node.allow_list.not_listed");
}

TEST_F(NodeTest, RefusesManifestThatIsNotTheBuildHash) {
  auto node = MakeNode(Options());
  ASSERT_NE(node, nullptr);
  auto request = Request();
  request.manifest_json += " ";  // one byte more: another hash
  auto r = node->Launch(request);
  EXPECT_EQ(ReasonOf(r), "node.launch.manifest_mismatch");
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed);
  // Checked before the allow-list is even asked for.
  std::lock_guard lock(mu_);
  EXPECT_EQ(fetches_, 0);
}

TEST_F(NodeTest, RefusesArtifactChangedAfterItsBuild) {
  auto node = MakeNode(Options());
  ASSERT_NE(node, nullptr);
  std::string bytes = ReadFileText(app_.artifact);
  const std::size_t at = bytes.find("Hello from");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'J';  // same size, another digest
  WriteFile(app_.artifact, bytes);
  auto r = node->Launch(Request());
  EXPECT_EQ(ReasonOf(r), "node.launch.artifact_mismatch");
  EXPECT_NE(r.error().message().find(app_.artifact.string()), std::string::npos);
  // The requester learns nothing about the file it named.
  EXPECT_EQ(r.error().message().find(*internal::FileSha256(app_.artifact)), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "node" / "instances" / "i-1"));
  auto refused = WaitFor(NodeEvent::Kind::kLaunchRefused, "i-1", std::chrono::seconds(1));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->instance.reason, "node.launch.artifact_mismatch");
}

TEST_F(NodeTest, RefusesAllowListNotSignedByThePinnedOperatorKey) {
  auto other = *crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  SetAllowList(SignAllowList(other, 5, {app_.build_hash}));
  auto node = MakeNode(Options());
  ASSERT_NE(node, nullptr);
  auto r = node->Launch(Request());
  EXPECT_EQ(ReasonOf(r), "node.allow_list.bad_signature");
  EXPECT_NE(r.error().message().find("cds.manifest.bad_signature"), std::string::npos);
  // The forged list's version was not recorded.
  EXPECT_FALSE(fs::exists(dir_ / "node" / "allow-list.version"));
}

TEST_F(NodeTest, RefusesAnOlderAllowListAlsoAfterARestart) {
  const std::string newer = "sha256:" + std::string(64, 'b');
  SetAllowList(SignAllowList(*operator_key_, 3, {newer}));
  {
    auto node = MakeNode(Options());
    ASSERT_NE(node, nullptr);
    EXPECT_EQ(ReasonOf(node->Launch(Request())), "node.allow_list.not_listed");
    EXPECT_EQ(ReadFileText(dir_ / "node" / "allow-list.version"), "3\n");
    // A control plane serving the old list (version 1, which names this build) is refused.
    SetAllowList(SignAllowList(*operator_key_, 1, {app_.build_hash}));
    auto r = node->Launch(Request());
    EXPECT_EQ(ReasonOf(r), "node.allow_list.rollback");
    EXPECT_EQ(r.error().code(), Code::kPolicyViolation);
  }
  // A restarted node remembers version 3.
  auto node = MakeNode(Options());
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(ReasonOf(node->Launch(Request())), "node.allow_list.rollback");
}

TEST_F(NodeTest, UnavailableAllowListIsNamed) {
  auto options = Options();
  options.manifest_source = []() -> Result<std::string> {
    return Unavailable("net.connect_failed", "connection refused");
  };
  auto node = MakeNode(std::move(options));
  ASSERT_NE(node, nullptr);
  auto r = node->Launch(Request());
  EXPECT_EQ(ReasonOf(r), "node.allow_list.unavailable");
  EXPECT_NE(r.error().message().find("net.connect_failed"), std::string::npos);
}

TEST_F(NodeTest, RefusesBadRequestFields) {
  auto node = MakeNode(Options());
  ASSERT_NE(node, nullptr);
  auto bad_tenant = Request();
  bad_tenant.tenant = "Acme/../x";
  EXPECT_EQ(ReasonOf(node->Launch(bad_tenant)), "node.request.bad_field");
  auto bad_hash = Request();
  bad_hash.build_hash = "sha256:ABC";
  EXPECT_EQ(ReasonOf(node->Launch(bad_hash)), "node.request.bad_field");
  auto reserved = Request();
  reserved.env["LUNAL_CDS_URL"] = "http://evil";
  auto r = node->Launch(reserved);
  EXPECT_EQ(ReasonOf(r), "node.request.bad_field");
  EXPECT_NE(r.error().message().find("LUNAL_CDS_URL"), std::string::npos);
}

TEST_F(NodeTest, RefusesArtifactWithALinkLeavingItsTree) {
  // A listed build whose artifact holds a symlink to the host's files: extraction refuses it.
  const fs::path out = dir_ / "evil" / "out";
  fs::create_directories(out / "app");
  WriteFile(out / "app" / "app.py", "print('x')\n");
  fs::create_symlink("../../../../etc/shadow", out / "app" / "shadow");
  const fs::path tar = dir_ / "evil" / "app.tar";
  // WriteDeterministicArchive refuses it too, so the tar is written by GNU tar.
  auto made = lunal::testing::RunProcess({"tar", "-C", out.string(), "-cf", tar.string(), "app"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  build::BuildManifest m;
  m.source = {.tree = "sha256:" + std::string(64, '2'), .files = 1, .bytes = 1};
  m.artifacts = {
      {.path = "app.tar", .digest = *internal::FileSha256(tar), .size = fs::file_size(tar)}};
  SetAllowList(SignAllowList(*operator_key_, 1, {*build::BuildHash(m)}));
  auto node = MakeNode(Options());
  ASSERT_NE(node, nullptr);
  auto request = Request();
  request.build_hash = *build::BuildHash(m);
  request.manifest_json = *build::CanonicalManifest(m);
  request.artifact = tar;
  auto r = node->Launch(request);
  EXPECT_EQ(ReasonOf(r), "node.launch.bad_artifact");
  EXPECT_FALSE(fs::exists(dir_ / "node" / "instances" / "i-1"));
}

// ---- the sandbox ----

TEST_F(NodeTest, SandboxThatEndsBeforeReadyFailsTheLaunchWithItsStderr) {
  const fs::path agent =
      Script(dir_ / "agent.sh",
             "#!/bin/sh\n"
             "echo \"spec: $(head -c 1 /run/lunal/instance.json)\"\n"
             "[ -e /work ] && echo 'host: /work visible' || echo 'host: hidden'\n"
             "touch /app/x 2>/dev/null && echo 'app: writable' || "
             "echo 'app: read-only'\n"
             "echo 'agent: cannot reach the CDS' >&2\n"
             "exit 1\n");
  auto node = MakeNode(Options(agent));
  ASSERT_NE(node, nullptr);
  auto r = node->Launch(Request());
  EXPECT_EQ(ReasonOf(r), "node.instance.exited");
  EXPECT_NE(r.error().message().find("exit status 1"), std::string::npos) << r.error();
  EXPECT_NE(r.error().message().find("agent: cannot reach the CDS"), std::string::npos);
  EXPECT_TRUE(LogContains("spec: {"));
  EXPECT_TRUE(LogContains("host: hidden"));
  EXPECT_TRUE(LogContains("app: read-only"));
  EXPECT_FALSE(LogContains("host: /work visible"));
  EXPECT_FALSE(fs::exists(dir_ / "node" / "instances" / "i-1"));
  EXPECT_TRUE(node->List().empty());
}

TEST_F(NodeTest, LaunchTimesOutAndKillsTheSandbox) {
  const fs::path agent = Script(dir_ / "agent.sh", "#!/bin/sh\necho started\nexec sleep 600\n");
  auto options = Options(agent);
  options.launch_timeout = std::chrono::milliseconds(1500);
  auto node = MakeNode(std::move(options));
  ASSERT_NE(node, nullptr);
  auto r = node->Launch(Request());
  EXPECT_EQ(ReasonOf(r), "node.launch.timeout");
  EXPECT_EQ(r.error().code(), Code::kDeadlineExceeded);
  EXPECT_TRUE(LogContains("started"));
  EXPECT_FALSE(fs::exists(dir_ / "node" / "instances" / "i-1"));
  // No sleep of the sandbox is left behind.
  auto ps = lunal::testing::RunProcess({"pgrep", "-f", "^sleep 600$"});
  EXPECT_NE(ps.exit_code, 0) << ps.out;
}

TEST_F(NodeTest, LongLinesAreCut) {
  const fs::path agent = Script(
      dir_ / "agent.sh", "#!/bin/sh\nhead -c 40000 /dev/zero | tr '\\0' x\necho\necho next\n");
  auto node = MakeNode(Options(agent));
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(ReasonOf(node->Launch(Request())), "node.instance.exited");
  auto lines = Logs("stdout");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], std::string(16 << 10, 'x'));
  EXPECT_EQ(lines[1], "next");
}

// The device server on its own: the instance may extend RTMR3 with Lunal events only.
TEST_F(NodeTest, DeviceAcceptsOnlyLunalEventsOnRtmr3) {
  auto attester = attest::sim::SimTdxAttester::Create(root_, {.mr_td = Bytes(48, 0x11)});
  ASSERT_TRUE(attester.ok());
  // A folder whose path is longer than sun_path's 108 bytes: bound through its descriptor.
  const fs::path long_dir = dir_ / std::string(120, 'd');
  fs::create_directories(long_dir);
  internal::DeviceServer device(long_dir / "tdx.sock", attester->get(), {});
  ASSERT_TRUE(device.Start().ok());
  EXPECT_TRUE(fs::is_socket(long_dir / "tdx.sock"));
  auto event = *attest::tdx::EncodeLunalEvent(
      {.type = attest::tdx::LunalEventType::kBuildHash, .value = app_.build_hash});
  const std::string b64 = Base64Encode(event);
  EXPECT_EQ(device.Handle({{"op", "extend"}, {"rtmr", 0}, {"event", b64}})["reason"],
            "node.device.rtmr_not_allowed");
  EXPECT_EQ(device.Handle(
                {{"op", "extend"}, {"rtmr", 3}, {"event", Base64Encode(AsBytes("x"))}})["reason"],
            "node.device.not_lunal_event");
  EXPECT_EQ(device.Handle({{"op", "quote"}, {"report_data", "00"}})["reason"],
            "node.device.bad_request");
  EXPECT_EQ(device.Handle({{"op", "extend"}, {"rtmr", 3}, {"event", b64}})["ok"], true);
  const auto rtmr3 = (*attester)->Rtmrs()[3];
  Bytes expect(48, 0);
  const auto digest = crypto::Sha384(event);
  expect.insert(expect.end(), digest.begin(), digest.end());
  const auto extended = crypto::Sha384(expect);
  EXPECT_EQ(rtmr3, Bytes(extended.begin(), extended.end()));

  // The CDS relay: only the two enrolment POSTs, and only where the node relays at all.
  EXPECT_EQ(device.Handle(
                {{"op", "cds"}, {"path", "/v1/cds/challenge"}, {"body", Json::object()}})["reason"],
            "node.device.no_cds");
  std::vector<std::pair<std::string, Json>> relayed;
  internal::DeviceServer relay(
      long_dir / "tdx2.sock", attester->get(),
      {.on_ready = nullptr,
       .on_failed = nullptr,
       .on_cds_post = [&](const std::string& path, const Json& body) -> Result<Json> {
         relayed.emplace_back(path, body);
         if (path == "/v1/cds/certificates") {
           return PolicyViolation("cds.allow_list.build_hash", "no");
         }
         return Json{{"nonce", "n-1"}};
       }});
  for (const char* path : {"/v1/cds/manifest", "/v1/cds/challenge/../manifest", "/v1/other"}) {
    EXPECT_EQ(relay.Handle({{"op", "cds"}, {"path", path}, {"body", Json::object()}})["reason"],
              "node.device.bad_request")
        << path;
  }
  EXPECT_EQ(relay.Handle({{"op", "cds"}, {"path", "/v1/cds/challenge"}})["reason"],
            "node.device.bad_request");  // no body
  EXPECT_TRUE(relayed.empty());
  Json ok = relay.Handle({{"op", "cds"}, {"path", "/v1/cds/challenge"}, {"body", {{"a", 1}}}});
  EXPECT_EQ(ok["answer"], (Json{{"nonce", "n-1"}})) << ok.dump();
  Json refused =
      relay.Handle({{"op", "cds"}, {"path", "/v1/cds/certificates"}, {"body", Json::object()}});
  EXPECT_EQ(refused["reason"], "cds.allow_list.build_hash");
  EXPECT_EQ(refused["code"], "policy_violation") << refused.dump();
  ASSERT_EQ(relayed.size(), 2u);
  EXPECT_EQ(relayed[0].second, (Json{{"a", 1}}));
}

// The expected RTMR3 after the instance agent's two events.
std::string ExpectedRtmr3(const std::string& build_hash, const std::string& instance_id) {
  Bytes rtmr(48, 0);
  for (const auto& ev :
       {attest::tdx::LunalEvent{attest::tdx::LunalEventType::kBuildHash, build_hash},
        attest::tdx::LunalEvent{attest::tdx::LunalEventType::kInstanceId, instance_id}}) {
    const auto digest = crypto::Sha384(*attest::tdx::EncodeLunalEvent(ev));
    rtmr.insert(rtmr.end(), digest.begin(), digest.end());
    const auto next = crypto::Sha384(rtmr);
    rtmr.assign(next.begin(), next.end());
  }
  return HexEncode(rtmr);
}

// Verifies the evidence of a ready report as a relying party would: the TDX verifier trusting
// the simulation root, the event log replayed.
attest::engine::VerifyResponse VerifyEvidence(
    const std::shared_ptr<const attest::sim::SimulationRoot>& root, const Clock& clock,
    const Json& evidence, std::optional<Bytes> report_data) {
  auto verifier =
      attest::engine::MakeLocalVerifier({.collateral = attest::engine::MakeSimulationSource(root),
                                         .simulated_anchors = {root->Anchor()},
                                         .clock = &clock});
  auto policy = attest::policy::DefaultPolicy();
  policy.allow_simulated = true;
  auto response = verifier->Verify({.evidence = ToBytes(evidence.dump()),
                                    .expected_report_data = std::move(report_data),
                                    .policy = policy});
  EXPECT_TRUE(response.ok()) << response.error();
  return response.ok() ? *response : attest::engine::VerifyResponse{};
}

Result<net::HttpResponse> Get(const std::string& url) {
  net::HttpClient client;
  return client.Send({.method = "GET", .url = url});
}

std::uint16_t AppPort(const fs::path& state_dir, const std::string& id) {
  auto spec = ParseJson(ReadFileText(state_dir / "instances" / id / "run" / "instance.json"));
  return spec.ok() ? (*spec)["app_port"].get<std::uint16_t>() : 0;
}

TEST_F(NodeTest, StandInAgentRunsTheAppAttestsAndStops) {
  const fs::path agent = dir_ / "standin.py";
  Script(agent, ReadFileText(lunal::testing::SourceDir() /
                             "src/node/agent/testdata/standin_instance_agent.py"));
  auto node = MakeNode(Options(agent));
  ASSERT_NE(node, nullptr);
  // A port on the host's loopback that the host itself reaches; the sandbox must not.
  const int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(probe, 0);
  sockaddr_in probe_addr{};
  probe_addr.sin_family = AF_INET;
  probe_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t probe_len = sizeof probe_addr;
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&probe_addr), sizeof probe_addr), 0);
  ASSERT_EQ(::listen(probe, 4), 0);
  ASSERT_EQ(::getsockname(probe, reinterpret_cast<sockaddr*>(&probe_addr), &probe_len), 0);
  const std::uint16_t probe_port = ntohs(probe_addr.sin_port);
  LaunchRequest request = Request();
  request.env["HOST_PROBE_PORT"] = std::to_string(probe_port);
  auto r = node->Launch(request);
  ASSERT_TRUE(r.ok()) << r.error() << "\n" << fmt::format("{}", fmt::join(Logs("stderr"), "\n"));
  EXPECT_EQ(r->state, InstanceState::kRunning);
  // Its own network namespace: the host's loopback port is out of reach from inside, while the
  // host reaches it (the probe could succeed).
  EXPECT_TRUE(LogContains("network: host_port_reachable=False"))
      << fmt::format("{}", fmt::join(Logs("stdout"), "\n"));
  {
    const int from_host = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(::connect(from_host, reinterpret_cast<sockaddr*>(&probe_addr), sizeof probe_addr), 0)
        << std::strerror(errno);
    ::close(from_host);
  }
  ::close(probe);
  EXPECT_TRUE(r->address.starts_with("127.0.0.1:"));
  EXPECT_GT(r->pid, 0);
  EXPECT_EQ(r->nonce, "stand-in-nonce");
  ASSERT_TRUE(WaitFor(NodeEvent::Kind::kReady, "i-1").has_value());

  // What the sandbox showed the agent; the device refused the boot register.
  EXPECT_TRUE(
      LogContains("sandbox: work=False root_ssh=False app_writable=no tmp_writable=yes "
                  "hostname=lunal-i-1"))
      << fmt::format("{}", fmt::join(Logs("stdout"), "\n"));
  EXPECT_TRUE(LogContains("device: rtmr0 extend refused: node.device.rtmr_not_allowed"));

  // The app serves from the sandbox, with the node's environment, through the mesh port the node
  // passed in (here the stand-in's plain forwarding); its own port is not on the host's loopback.
  const std::uint16_t app_port = AppPort(dir_ / "node", "i-1");
  ASSERT_NE(app_port, 0);
  EXPECT_FALSE(Get(fmt::format("http://127.0.0.1:{}/api/hello", app_port)).ok());
  auto hello = Get(fmt::format("http://{}/api/hello", r->address));
  ASSERT_TRUE(hello.ok()) << hello.error();
  EXPECT_EQ(hello->status, 200);
  EXPECT_NE(hello->body.find("Hello from your secure Luna Lamp application!"), std::string::npos);

  // The evidence verifies under the simulation root; RTMR3 replays to the build hash; MRTD and
  // RTMR1 are the node's sandbox measurements.
  const auto rd = crypto::Sha512(AsBytes("stand-in-nonce"));
  auto v = VerifyEvidence(root_, clock_, r->evidence, Bytes(rd.begin(), rd.end()));
  EXPECT_EQ(v.verdict, attest::engine::Verdict::kVerified) << v.record.dump(2);
  EXPECT_EQ(v.essentials["build_hash"], app_.build_hash);
  EXPECT_EQ(v.essentials["simulated"], true);
  EXPECT_EQ(v.essentials["measurements"]["rtmr3"], ExpectedRtmr3(app_.build_hash, "i-1"));
  EXPECT_EQ(v.essentials["measurements"]["mr_td"], node->MrTdHex());
  // A wrong expected REPORT_DATA fails: the quote binds what the agent asked for.
  auto wrong = VerifyEvidence(root_, clock_, r->evidence, Bytes(64, 0));
  EXPECT_EQ(wrong.verdict, attest::engine::Verdict::kFailed);

  auto list = node->List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].state, InstanceState::kRunning);
  // The same id cannot run twice.
  EXPECT_EQ(ReasonOf(node->Launch(Request())), "node.instance.exists");

  ASSERT_TRUE(node->Stop("i-1").ok());
  auto stopped = WaitFor(NodeEvent::Kind::kStopped, "i-1");
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(stopped->instance.message, "exit status 0");  // SIGTERM reached the agent: graceful
  EXPECT_TRUE(LogContains("stand-in agent: stopped"));
  EXPECT_TRUE(node->List().empty());
  EXPECT_FALSE(fs::exists(dir_ / "node" / "instances" / "i-1"));
  EXPECT_FALSE(Get(fmt::format("http://{}/api/hello", r->address)).ok());  // the port closed
  EXPECT_EQ(node->Stop("i-1").reason(), "node.instance.unknown");
}

TEST_F(NodeTest, KillingTheSandboxIsReportedAsExited) {
  const fs::path agent = dir_ / "standin.py";
  Script(agent, ReadFileText(lunal::testing::SourceDir() /
                             "src/node/agent/testdata/standin_instance_agent.py"));
  auto node = MakeNode(Options(agent));
  ASSERT_NE(node, nullptr);
  auto r = node->Launch(Request());
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(Get(fmt::format("http://{}/api/hello", r->address)).ok());
  ASSERT_EQ(::kill(r->pid, SIGKILL), 0);
  auto exited = WaitFor(NodeEvent::Kind::kExited, "i-1");
  ASSERT_TRUE(exited.has_value());
  EXPECT_EQ(exited->instance.state, InstanceState::kExited);
  EXPECT_EQ(exited->instance.reason, "node.instance.exited");
  EXPECT_NE(exited->instance.message.find("killed by signal 9"), std::string::npos);
  // --die-with-parent took the app with it (and the mesh port), and the node forgot the instance.
  EXPECT_FALSE(Get(fmt::format("http://{}/api/hello", r->address)).ok());
  EXPECT_TRUE(node->List().empty());
  EXPECT_FALSE(fs::exists(dir_ / "node" / "instances" / "i-1"));
  // The id may be launched again (the control plane's replacement).
  auto again = node->Launch(Request());
  EXPECT_TRUE(again.ok()) << again.error();
}

// ---- the real instance agent (lunald-instance) against an in-process CDS ----

std::optional<fs::path> InstanceAgentBinary() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("LUNAL_NODE_TEST_INSTANCE_AGENT")) candidates.emplace_back(env);
#ifdef LUNAL_NODE_TEST_INSTANCE_AGENT
  candidates.emplace_back(LUNAL_NODE_TEST_INSTANCE_AGENT);
#endif
  candidates.push_back(lunal::testing::BinaryDir() / "src" / "lunald" / "lunald-instance");
  for (const fs::path& p : candidates) {
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return std::nullopt;
}

class NodeWithCdsTest : public NodeTest {
 protected:
  void SetUp() override {
    NodeTest::SetUp();
    auto binary = InstanceAgentBinary();
    if (!binary) GTEST_SKIP() << "lunald-instance is not built (build the target lunald-instance)";
    binary_ = *binary;
    std::shared_ptr<const attest::engine::EvidenceVerifier> verifier =
        attest::engine::MakeLocalVerifier(
            {.collateral = attest::engine::MakeSimulationSource(root_),
             .simulated_anchors = {root_->Anchor()},
             .clock = &clock_});
    auto cds = cds::Cds::Open({.state_dir = dir_ / "cds",
                               .operator_key_pem = *(*operator_key_->PublicKey()).ToPem(),
                               .verifier = verifier,
                               .clock = &clock_});
    ASSERT_TRUE(cds.ok()) << cds.error();
    cds_ = std::move(*cds);
    ASSERT_TRUE(cds_->PutManifest(SignAllowList(*operator_key_, 1, {app_.build_hash})).ok());
    auto router = cds::MakeRouter(*cds_, {});
    ASSERT_TRUE(router.ok()) << router.error();
    server_ =
        std::make_unique<net::HttpServer>(net::ServerOptions{.threads = 2}, std::move(*router));
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop(std::chrono::milliseconds(100));
  }

  // The node as `lunald dev` wires it: the CDS's active manifest is the allow-list source.
  NodeOptions CdsOptions() {
    NodeOptions options = Options(binary_);
    options.cds_url = fmt::format("http://127.0.0.1:{}", server_->port());
    options.cds_ca_pem = cds_->ca_certificate().ToPem();
    options.manifest_source = [this]() -> Result<std::string> {
      LUNAL_ASSIGN_OR_RETURN(Json doc, cds_->ManifestDocument());
      return doc["active"]["envelope"].dump();
    };
    return options;
  }

  fs::path binary_;
  std::unique_ptr<cds::Cds> cds_;
  std::unique_ptr<net::HttpServer> server_;
};

TEST_F(NodeWithCdsTest, InstanceAgentEnrolsServesAndStops) {
  auto node = MakeNode(CdsOptions());
  ASSERT_NE(node, nullptr);
  auto r = node->Launch(Request());
  ASSERT_TRUE(r.ok()) << r.error() << "\n" << fmt::format("{}", fmt::join(Logs("stderr"), "\n"));
  EXPECT_EQ(r->state, InstanceState::kRunning);

  // The mesh certificate the CDS issued, for the key the evidence binds with the CDS's nonce.
  auto chain = crypto::ParsePemChain(r->certificate_pem);  // leaf, then the CDS CA
  ASSERT_TRUE(chain.ok()) << chain.error();
  ASSERT_FALSE(chain->empty());
  const crypto::Certificate* cert = &chain->front();
  EXPECT_TRUE(cert->VerifySignedBy(cds_->ca_certificate()).ok());
  EXPECT_EQ(cert->SubjectCommonName(), "i-1");
  auto rd = attest::ReportDataFor({.key_spki_der = *(*cert->PublicKey()).ToSpkiDer(),
                                   .nonce = r->nonce,
                                   .build_hash = app_.build_hash});
  ASSERT_TRUE(rd.ok()) << rd.error();
  auto v = VerifyEvidence(root_, clock_, r->evidence, Bytes(rd->begin(), rd->end()));
  EXPECT_EQ(v.verdict, attest::engine::Verdict::kVerified) << v.record.dump(2);
  EXPECT_EQ(v.essentials["build_hash"], app_.build_hash);
  EXPECT_EQ(v.essentials["measurements"]["mr_td"], node->MrTdHex());

  // The app's own port exists only in the sandbox's network namespace (the mesh test below
  // reaches it through the agent).
  const std::uint16_t app_port = AppPort(dir_ / "node", "i-1");
  ASSERT_NE(app_port, 0);
  EXPECT_FALSE(Get(fmt::format("http://127.0.0.1:{}/api/hello", app_port)).ok());

  ASSERT_TRUE(node->Stop("i-1").ok());
  auto stopped = WaitFor(NodeEvent::Kind::kStopped, "i-1");
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(stopped->instance.message, "exit status 0");  // drained and exited on SIGTERM
}

// A launch through NodeClient: the status crosses HTTP intact (evidence, certificate), the
// instance's log lines are events a poller sees, and Stop ends it.
TEST_F(NodeWithCdsTest, ClientLaunchesFollowsLogsAndStops) {
  EventFeed feed;
  NodeOptions options = CdsOptions();
  options.on_event = feed.Sink();
  auto node = MakeNode(std::move(options));
  ASSERT_NE(node, nullptr);
  net::Router router;
  ASSERT_TRUE(AddNodeRoutes(router, *node, "node-token", &feed).ok());
  net::HttpServer server({.threads = 3}, std::move(router));
  ASSERT_TRUE(server.Start().ok());
  NodeClient client(
      {.base_url = fmt::format("http://127.0.0.1:{}", server.port()), .token = "node-token"});
  auto r = client.Launch(Request());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->state, InstanceState::kRunning);
  EXPECT_TRUE(r->evidence.is_object());
  EXPECT_FALSE(r->nonce.empty());
  auto chain = crypto::ParsePemChain(r->certificate_pem);
  ASSERT_TRUE(chain.ok()) << chain.error();
  EXPECT_TRUE(chain->front().VerifySignedBy(cds_->ca_certificate()).ok());
  auto listed = client.List();
  ASSERT_TRUE(listed.ok()) << listed.error();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(ToJson(listed->front()), ToJson(*r));

  bool ready = false, logged = false;
  std::uint64_t after = 0;
  for (int i = 0; i < 10 && !(ready && logged); ++i) {
    auto batch = client.PollEvents(after, std::chrono::seconds(2));
    ASSERT_TRUE(batch.ok()) << batch.error();
    for (const SequencedEvent& e : batch->events) {
      EXPECT_GT(e.seq, after);
      after = e.seq;
      if (e.event.kind == NodeEvent::Kind::kReady) ready = e.event.instance.instance_id == "i-1";
      if (e.event.kind == NodeEvent::Kind::kLog && e.event.instance.instance_id == "i-1") {
        logged = true;
      }
    }
  }
  EXPECT_TRUE(ready);
  EXPECT_TRUE(logged);
  ASSERT_TRUE(client.Stop("i-1").ok());
  auto empty = client.List();
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  feed.Close();
  server.Stop(std::chrono::milliseconds(100));
}

// A sim-tdx "component" enrolled at the CDS as tenant/deployment with `build_hash`.
cds::Enrolment EnrolAs(const std::shared_ptr<const attest::sim::SimulationRoot>& root,
                       const std::string& cds_url, const std::string& tenant,
                       const std::string& deployment, const std::string& build_hash) {
  const auto image = crypto::Sha384(AsBytes("node test component"));
  auto attester =
      attest::sim::SimTdxAttester::Create(root, {.mr_td = Bytes(image.begin(), image.end())});
  EXPECT_TRUE(attester.ok());
  auto event = attest::tdx::EncodeLunalEvent(
      {.type = attest::tdx::LunalEventType::kBuildHash, .value = build_hash});
  EXPECT_TRUE((*attester)->ExtendRtmr(3, crypto::Sha384(*event), *event).ok());
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  auto e = cds::Enroll({.cds_url = cds_url,
                        .attester = attester->get(),
                        .key = &*key,
                        .tenant = tenant,
                        .deployment = deployment,
                        .instance = "component-1",
                        .build_hash = build_hash});
  EXPECT_TRUE(e.ok()) << e.error();
  return e.ok() ? *e : cds::Enrolment{};
}

// The instance serves the app behind mesh TLS, to the gateway's identity only (instance.h step 5,
// with the gateway names the node put in the spec).
TEST_F(NodeWithCdsTest, AppIsReachableOverMeshTlsByTheGatewayOnly) {
  const std::string gateway_build = "sha256:" + std::string(64, '9');
  ASSERT_TRUE(cds_->PutManifest(SignAllowList(*operator_key_, 2, {app_.build_hash},
                                              Json::array({{{"tenant", "lunal"},
                                                            {"deployment", "gateway"},
                                                            {"build_hashes", {gateway_build}},
                                                            {"allow_simulated", true}}})))
                  .ok());
  auto node = MakeNode(CdsOptions());
  ASSERT_NE(node, nullptr);
  auto r = node->Launch(Request());
  ASSERT_TRUE(r.ok()) << r.error();
  const std::string url = fmt::format("https://{}/api/hello", r->address);
  const std::string ca = cds_->ca_certificate().ToPem();
  const std::string cds_url = fmt::format("http://127.0.0.1:{}", server_->port());

  auto gateway = EnrolAs(root_, cds_url, "lunal", "gateway", gateway_build);
  net::HttpClient as_gateway({.tls = {.ca_pem = ca,
                                      .client_cert_pem = gateway.certificate_pem,
                                      .client_key_pem = gateway.key_pem,
                                      .server_name = "i-1"}});
  auto hello = as_gateway.Send({.method = "GET", .url = url});
  ASSERT_TRUE(hello.ok()) << hello.error();
  EXPECT_EQ(hello->status, 200);
  EXPECT_NE(hello->body.find("Hello from your secure Luna Lamp application!"), std::string::npos);

  // Another attested component of the mesh, not the gateway: refused in the handshake.
  auto peer = EnrolAs(root_, cds_url, "acme", "api", app_.build_hash);
  net::HttpClient as_peer({.tls = {.ca_pem = ca,
                                   .client_cert_pem = peer.certificate_pem,
                                   .client_key_pem = peer.key_pem,
                                   .server_name = "i-1"}});
  auto refused = as_peer.Send({.method = "GET", .url = url});
  EXPECT_TRUE(!refused.ok() || refused->status >= 400);
  ASSERT_TRUE(node->Stop("i-1").ok());
}

TEST_F(NodeWithCdsTest, KillNineOfTheSandboxIsReportedAsExited) {
  auto node = MakeNode(CdsOptions());
  ASSERT_NE(node, nullptr);
  auto r = node->Launch(Request());
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(::kill(r->pid, SIGKILL), 0);
  auto exited = WaitFor(NodeEvent::Kind::kExited, "i-1");
  ASSERT_TRUE(exited.has_value());
  EXPECT_EQ(exited->instance.reason, "node.instance.exited");
  EXPECT_TRUE(node->List().empty());
}

// The host pid of the process inside the sandbox whose environment has PORT=<port> (the app).
pid_t AppHostPid(std::uint16_t port) {
  const std::string needle = fmt::format("PORT={}", port);
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    auto env = lunal::ReadFileIfExists(entry.path() / "environ");
    if (!env.ok() || !env->has_value()) continue;
    std::string_view text(**env);
    for (std::size_t at = 0; at < text.size();) {
      const std::size_t end = std::min(text.find('\0', at), text.size());
      if (text.substr(at, end - at) == needle) return static_cast<pid_t>(std::stoi(name));
      at = end + 1;
    }
  }
  return -1;
}

// A hung app (SIGSTOP) fails the instance agent's liveness check; the node reports why.
TEST_F(NodeWithCdsTest, HungAppIsReportedAsUnhealthy) {
  NodeOptions options = CdsOptions();
  options.health_path = "/api/hello";
  options.health_interval = std::chrono::milliseconds(200);
  options.health_timeout = std::chrono::milliseconds(300);
  options.health_failures = 2;
  auto node = MakeNode(std::move(options));
  ASSERT_NE(node, nullptr);
  auto r = node->Launch(Request());
  ASSERT_TRUE(r.ok()) << r.error();
  const std::uint16_t app_port = AppPort(dir_ / "node", "i-1");
  ASSERT_NE(app_port, 0);
  const pid_t app = AppHostPid(app_port);
  ASSERT_GT(app, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // probes pass meanwhile
  ASSERT_EQ(node->List().size(), 1u);

  ASSERT_EQ(::kill(app, SIGSTOP), 0);
  auto exited = WaitFor(NodeEvent::Kind::kExited, "i-1");
  ASSERT_TRUE(exited.has_value());
  EXPECT_EQ(exited->instance.reason, "node.instance.unhealthy");
  EXPECT_TRUE(node->List().empty());
  EXPECT_FALSE(fs::exists(fs::path("/proc") / std::to_string(app)));
}

// ---- the HTTP API: a compromised control plane can only ask ----

TEST_F(NodeTest, HttpApiAuthenticatesAndMapsRefusals) {
  SetAllowList(SignAllowList(*operator_key_, 1, {"sha256:" + std::string(64, 'a')}));
  auto node = MakeNode(Options());
  ASSERT_NE(node, nullptr);
  net::Router router;
  ASSERT_TRUE(AddNodeRoutes(router, *node, "node-token").ok());
  net::HttpServer server({.threads = 2}, std::move(router));
  ASSERT_TRUE(server.Start().ok());
  const std::string base = fmt::format("http://127.0.0.1:{}", server.port());
  net::HttpClient client;
  Json body = {{"tenant", "acme"},
               {"deployment", "api"},
               {"instance_id", "i-1"},
               {"build_hash", app_.build_hash},
               {"manifest_json", app_.manifest_json},
               {"artifact", app_.artifact.string()}};
  auto post = [&](const std::string& token, const Json& b) {
    net::HttpHeaders headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    return client.Send({.method = "POST",
                        .url = base + "/v1/node/instances",
                        .headers = headers,
                        .body = b.dump()});
  };
  auto reason = [](const Result<net::HttpResponse>& r) {
    auto doc = ParseJson(r->body);
    return doc.ok() ? (*doc)["error"]["reason"].get<std::string>() : std::string("?");
  };

  auto anonymous = post("", body);
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(reason(anonymous), "node.auth.unauthenticated");
  auto wrong_token = post("node-tokeN", body);
  EXPECT_EQ(wrong_token->status, 401);

  // Straight to the node, as a compromised control plane would: a build not in the list.
  auto unlisted = post("node-token", body);
  ASSERT_TRUE(unlisted.ok());
  EXPECT_EQ(unlisted->status, 403);
  EXPECT_EQ(reason(unlisted), "node.allow_list.not_listed");

  Json mismatch = body;
  mismatch["manifest_json"] = app_.manifest_json + "\n";
  auto bad = post("node-token", mismatch);
  EXPECT_EQ(bad->status, 422);
  EXPECT_EQ(reason(bad), "node.launch.manifest_mismatch");

  Json unknown = body;
  unknown["command"] = Json::array({"/bin/sh"});  // the start command is never the request's
  auto refused = post("node-token", unknown);
  EXPECT_EQ(refused->status, 400);
  EXPECT_EQ(reason(refused), "node.request.bad_field");

  net::HttpHeaders auth = {{"Authorization", "Bearer node-token"}};
  auto list = client.Send({.method = "GET", .url = base + "/v1/node/instances", .headers = auth});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->status, 200);
  EXPECT_EQ(list->body, R"({"instances":[]})");
  auto del =
      client.Send({.method = "DELETE", .url = base + "/v1/node/instances/i-9", .headers = auth});
  EXPECT_EQ(del->status, 404);
  EXPECT_EQ(reason(del), "node.instance.unknown");
  server.Stop(std::chrono::milliseconds(100));
}

// The node's API through NodeClient, as a control plane in another process uses it: refusals keep
// the node's code and reason, and the refusal is an event a poller sees.
TEST_F(NodeTest, ClientRoundTripsAndKeepsRefusalReasons) {
  SetAllowList(SignAllowList(*operator_key_, 1, {"sha256:" + std::string(64, 'a')}));
  EventFeed feed;
  NodeOptions options = Options();
  options.on_event = [&feed, fixture = options.on_event](const NodeEvent& e) {
    fixture(e);
    feed.Publish(e);
  };
  auto node = MakeNode(std::move(options));
  ASSERT_NE(node, nullptr);
  net::Router router;
  ASSERT_TRUE(AddNodeRoutes(router, *node, "node-token", &feed).ok());
  net::HttpServer server({.threads = 3}, std::move(router));
  ASSERT_TRUE(server.Start().ok());
  const std::string base = fmt::format("http://127.0.0.1:{}", server.port());
  NodeClient client({.base_url = base, .token = "node-token"});

  // A long poll started before the refusal wakes with it.
  auto poll = std::async(std::launch::async, [&] {
    NodeClient poller({.base_url = base, .token = "node-token"});
    return poller.PollEvents(0, std::chrono::seconds(20));
  });
  auto unlisted = client.Launch(Request());
  ASSERT_FALSE(unlisted.ok());
  EXPECT_EQ(unlisted.error().code(), Code::kPolicyViolation);
  EXPECT_EQ(unlisted.error().reason(), "node.allow_list.not_listed");
  ASSERT_EQ(poll.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto batch = poll.get();
  ASSERT_TRUE(batch.ok()) << batch.error();
  ASSERT_EQ(batch->events.size(), 1u);
  EXPECT_EQ(batch->events[0].seq, 1u);
  EXPECT_EQ(batch->events[0].event.kind, NodeEvent::Kind::kLaunchRefused);
  EXPECT_EQ(batch->events[0].event.instance.instance_id, "i-1");
  EXPECT_EQ(batch->events[0].event.instance.reason, "node.allow_list.not_listed");
  EXPECT_EQ(batch->next, 1u);

  LaunchRequest mismatch = Request("i-2");
  mismatch.manifest_json += "\n";
  auto bad = client.Launch(mismatch);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Code::kVerificationFailed);
  EXPECT_EQ(bad.error().reason(), "node.launch.manifest_mismatch");

  auto list = client.List();
  ASSERT_TRUE(list.ok()) << list.error();
  EXPECT_TRUE(list->empty());
  Status unknown = client.Stop("i-9");
  EXPECT_EQ(unknown.code(), Code::kNotFound);
  EXPECT_EQ(unknown.reason(), "node.instance.unknown");
  EXPECT_EQ(client.Stop("../x").reason(), "node.request.bad_field");

  auto after = client.PollEvents(1, std::chrono::seconds(0));
  ASSERT_TRUE(after.ok()) << after.error();
  ASSERT_EQ(after->events.size(), 1u);  // the mismatch
  EXPECT_EQ(after->events[0].event.instance.reason, "node.launch.manifest_mismatch");

  NodeClient intruder({.base_url = base, .token = "node-tokeN"});
  EXPECT_EQ(intruder.List().error().reason(), "node.auth.unauthenticated");
  EXPECT_EQ(intruder.PollEvents(0, std::chrono::seconds(0)).error().reason(),
            "node.auth.unauthenticated");
  net::HttpClient raw;
  auto too_long = raw.Send({.method = "GET",
                            .url = base + "/v1/node/events?wait=26",
                            .headers = {{"Authorization", "Bearer node-token"}}});
  ASSERT_TRUE(too_long.ok());
  EXPECT_EQ(too_long->status, 400);
  feed.Close();
  server.Stop(std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace lunal::node
