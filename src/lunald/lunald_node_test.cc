// Runs the built `lunald node` beside a built `lunald cds`, as two processes, and drives it only
// through NodeClient over mesh mTLS, presenting a CDS-issued lunal/control certificate, as
// `lunald control` does (clients without one, or with another identity, fail the handshake): a real
// examples/hello-python artifact listed in the operator-signed allow-list runs with evidence; an
// unlisted build hash is refused by the node (node.allow_list.not_listed); the instance's log
// lines are events; SIGTERM stops the node with exit 0 and takes the instance's processes along.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "daemon_test_support.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/build/artifact_archive.h"
#include "lunal/build/manifest.h"
#include "lunal/cds/manifest.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/dsse.h"
#include "lunal/crypto/keys.h"
#include "lunal/net/client.h"
#include "lunal/node/client.h"
#include "lunal/testing/testing.h"

namespace lunal {
namespace {

using lunald_testing::Daemon;
using lunald_testing::LunaldPath;

namespace fs = std::filesystem;
using testing::ReadFileText;
using testing::WriteFile;

struct Built {
  fs::path artifact;
  std::string manifest_json;
  std::string build_hash;
};

// examples/hello-python as the build pipeline lays it out (docs/formats/build-output.md: app/ in a
// deterministic tar) with its manifest; `extra` (a file app/extra.txt) makes another build.
Built BuildHelloPython(const fs::path& dir, const std::string& extra = "") {
  const fs::path out = dir / "out";
  fs::create_directories(out / "app");
  const fs::path example = testing::SourceDir() / "examples" / "hello-python";
  for (const char* name : {"app.py", "lunal.config.yaml"}) {
    WriteFile(out / "app" / name, ReadFileText(example / name));
  }
  if (!extra.empty()) WriteFile(out / "app" / "extra.txt", extra);
  Built b;
  b.artifact = dir / "app.tar";
  EXPECT_TRUE(build::WriteDeterministicArchive(out, b.artifact).ok());
  const std::string tar = ReadFileText(b.artifact);
  build::BuildManifest m;
  m.source = {.tree = "sha256:" + std::string(64, '1'), .files = 2, .bytes = 100};
  m.environment = {{"LC_ALL", "C"}};
  m.artifacts = {{.path = "app.tar",
                  .digest = "sha256:" + HexEncode(crypto::Sha256(AsBytes(tar))),
                  .size = tar.size()}};
  b.manifest_json = *build::CanonicalManifest(m);
  b.build_hash = *build::BuildHash(m);
  return b;
}

bool ProcessExists(int pid) {
  return pid > 0 && fs::exists(fs::path("/proc") / std::to_string(pid));
}

TEST(LunaldNodeTest, HelpShowsTheConfigurationAndTheTrust) {
  auto r = testing::RunProcess({LunaldPath(), "node", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* needle : {"sim_root:", "operator_key:", "control_deployment:", "cds_url:",
                             "pinned operator key", "/v1/node/events", "mesh mTLS only"}) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle << " missing from:\n" << r.out;
  }
}

TEST(LunaldNodeTest, ConfigurationErrorsNameTheirPlace) {
  testing::TempDir dir;
  WriteFile(dir / "typo.yaml", "node:\n  state_dir: s\n  sim_rot: x\n");
  auto typo = testing::RunProcess({LunaldPath(), "--config", (dir / "typo.yaml").string(), "node"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("typo.yaml:3:3: node.sim_rot: unknown key"), std::string::npos)
      << typo.err;
  WriteFile(dir / "short.yaml", "node:\n  state_dir: s\n  sim_root: sim\n");
  auto missing =
      testing::RunProcess({LunaldPath(), "--config", (dir / "short.yaml").string(), "node"});
  EXPECT_NE(missing.err.find("operator_key: required"), std::string::npos) << missing.err;
}

TEST(LunaldNodeTest, RunsAnAllowListedBuildRefusesOthersAndStopsOnSigterm) {
  const fs::path instance_agent = testing::BinaryDir() / "src/lunald/lunald-instance";
  if (::access(instance_agent.c_str(), X_OK) != 0) GTEST_SKIP() << "lunald-instance is not built";
  if (!testing::HaveProgram("bwrap")) GTEST_SKIP() << "bwrap is not installed";
  testing::TempDir dir;
  // The simulated TDX root both processes use: the CDS trusts it, the node's instances quote
  // with it.
  ASSERT_TRUE(attest::sim::SimulationRoot::Open(dir / "sim", SystemClock::Instance()).ok());
  auto op = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  ASSERT_TRUE(op.ok());
  WriteFile(dir / "operator.pem", *(*op->PublicKey()).ToPem());
  const Built app = BuildHelloPython(dir / "build");
  const Built other = BuildHelloPython(dir / "other", "not in the allow-list");
  ASSERT_NE(app.build_hash, other.build_hash);

  WriteFile(dir / "cds.yaml",
            "cds:\n  state_dir: cds\n  operator_key: operator.pem\n"
            "  auth: {operator_token_sha256: [" +
                std::string(64, 'a') +
                "]}\n"
                "attestation:\n  trust_simulation_root: sim\n");
  Daemon cds({"--config", (dir / "cds.yaml").string(), "cds"}, dir / "cds.stderr");
  const Json cds_line = cds.FirstJson();
  ASSERT_TRUE(cds_line.is_object()) << ReadFileText(dir / "cds.stderr");
  const std::string cds_url = cds_line["url"];
  // The operator lists the node (this lunald's hash), a control plane (the test, playing it with
  // a TD of its own) and the app.
  const std::string control_hash = "sha256:" + std::string(64, 'c');
  net::HttpClient http;
  auto put = http.SendJson(
      {.method = "PUT",
       .url = cds_url + "/v1/cds/manifest",
       .headers = {},
       .body = lunald_testing::SignAllowList(
           *op, 1,
           Json::array(
               {lunald_testing::AllowEntry("lunal", "node", lunald_testing::LunaldBuildHash()),
                lunald_testing::AllowEntry("lunal", "control", control_hash),
                lunald_testing::AllowEntry("acme", "api", app.build_hash)}))});
  ASSERT_TRUE(put.ok()) << put.error();

  WriteFile(dir / "node.yaml",
            "node:\n  state_dir: node\n  sim_root: sim\n"
            "  operator_key: operator.pem\n"
            "  cds_url: " +
                cds_url + "\n  launch_timeout_seconds: 30\n");
  Daemon node({"--config", (dir / "node.yaml").string(), "node"}, dir / "node.stderr");
  const Json node_line = node.FirstJson();
  ASSERT_TRUE(node_line.is_object()) << ReadFileText(dir / "node.stderr");
  const std::string node_url = node_line["url"];
  EXPECT_TRUE(node_url.starts_with("https://127.0.0.1:")) << node_url;
  EXPECT_EQ(node_line["mr_td"].get<std::string>().size(), 96u);
  EXPECT_EQ(node_line["identity"], "lunal://lunal/node/node-0");

  auto control = lunald_testing::EnrolTestIdentity(dir / "sim", cds_url, "lunal", "control",
                                                   "control-test", control_hash);
  ASSERT_TRUE(control.ok()) << control.error();
  auto control_tls = lunald_testing::PlatformClientTls(*control, "lunal", "node");
  ASSERT_TRUE(control_tls.ok()) << control_tls.error();

  // Only the control plane's identity gets in. A client with no certificate, and an instance's
  // (acme/api, listed and attested, but not the control plane), fail the handshake; the node logs
  // why. The client still checks the node: expecting the gateway there fails on its side.
  {
    net::ClientTlsOptions anonymous = *control_tls;
    anonymous.client_credentials = nullptr;
    node::NodeClient no_cert({.base_url = node_url, .token = {}, .tls = anonymous});
    auto r = no_cert.List();
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.error().reason().starts_with("net.")) << r.error();

    auto instance = lunald_testing::EnrolTestIdentity(dir / "sim", cds_url, "acme", "api", "api-1",
                                                      app.build_hash);
    ASSERT_TRUE(instance.ok()) << instance.error();
    auto instance_tls = lunald_testing::PlatformClientTls(*instance, "lunal", "node");
    ASSERT_TRUE(instance_tls.ok()) << instance_tls.error();
    node::NodeClient impostor({.base_url = node_url, .token = {}, .tls = *instance_tls});
    r = impostor.List();
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.error().reason().starts_with("net.")) << r.error();

    auto wrong_server = lunald_testing::PlatformClientTls(*control, "lunal", "gateway");
    ASSERT_TRUE(wrong_server.ok()) << wrong_server.error();
    node::NodeClient misdirected({.base_url = node_url, .token = {}, .tls = *wrong_server});
    r = misdirected.List();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason(), "mesh.peer.wrong_identity") << r.error();

    // Plain HTTP is not served at all.
    node::NodeClient plain({.base_url = "http://" + node_url.substr(8), .token = {}});
    EXPECT_FALSE(plain.List().ok());

    // The refusals are logged on the node's I/O threads, maybe after the clients gave up.
    std::string err;
    for (int i = 0; i < 50; ++i) {
      err = ReadFileText(dir / "node.stderr");
      if (err.find("mesh.peer.no_certificate") != std::string::npos &&
          err.find("mesh.peer.wrong_identity") != std::string::npos) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_NE(err.find("node.api.refused"), std::string::npos) << err;
    EXPECT_NE(err.find("mesh.peer.no_certificate"), std::string::npos) << err;
    EXPECT_NE(err.find("mesh.peer.wrong_identity"), std::string::npos) << err;
  }

  node::NodeClient client({.base_url = node_url, .token = {}, .tls = *control_tls});
  node::LaunchRequest request{.tenant = "acme",
                              .deployment = "api",
                              .instance_id = "hello-1",
                              .build_hash = app.build_hash,
                              .manifest_json = app.manifest_json,
                              .artifact = app.artifact,
                              .env = {}};
  auto running = client.Launch(request);
  ASSERT_TRUE(running.ok()) << running.error() << "\n" << ReadFileText(dir / "node.stderr");
  EXPECT_EQ(running->state, node::InstanceState::kRunning);
  EXPECT_TRUE(running->evidence.is_object());
  EXPECT_FALSE(running->nonce.empty());
  EXPECT_NE(running->certificate_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_TRUE(ProcessExists(running->pid));

  // A real build the operator never listed: the node refuses it, whoever asks.
  node::LaunchRequest unlisted = request;
  unlisted.instance_id = "hello-2";
  unlisted.build_hash = other.build_hash;
  unlisted.manifest_json = other.manifest_json;
  unlisted.artifact = other.artifact;
  auto refused = client.Launch(unlisted);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kPolicyViolation);
  EXPECT_EQ(refused.error().reason(), "node.allow_list.not_listed") << refused.error();

  auto listed = client.List();
  ASSERT_TRUE(listed.ok()) << listed.error();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().instance_id, "hello-1");

  // The events: ready, the instance's log lines, the refusal.
  bool ready = false, logged = false, refusal = false;
  std::uint64_t after = 0;
  for (int i = 0; i < 10 && !(ready && logged && refusal); ++i) {
    auto batch = client.PollEvents(after, std::chrono::seconds(2));
    ASSERT_TRUE(batch.ok()) << batch.error();
    EXPECT_EQ(batch->dropped, 0u);
    EXPECT_EQ(batch->epoch.size(), 32u);  // the node process's numbering (event_feed.h)
    for (const node::SequencedEvent& e : batch->events) {
      EXPECT_EQ(e.seq, after + 1);  // consecutive, none missed
      after = e.seq;
      const std::string& id = e.event.instance.instance_id;
      if (e.event.kind == node::NodeEvent::Kind::kReady) ready = ready || id == "hello-1";
      if (e.event.kind == node::NodeEvent::Kind::kLog) logged = logged || id == "hello-1";
      if (e.event.kind == node::NodeEvent::Kind::kLaunchRefused) {
        refusal = refusal || id == "hello-2";
      }
    }
  }
  EXPECT_TRUE(ready);
  EXPECT_TRUE(logged);
  EXPECT_TRUE(refusal);

  EXPECT_EQ(node.StopWith(SIGTERM), 0) << ReadFileText(dir / "node.stderr");
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    gone = !ProcessExists(running->pid);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(gone) << "the sandbox (pid " << running->pid << ") outlived the node";
  // Nothing listens on the instance's mesh address any more.
  net::HttpClient after_stop({.connect_timeout = std::chrono::seconds(2)});
  auto probe = after_stop.Send({.method = "GET", .url = "http://" + running->address + "/"});
  ASSERT_FALSE(probe.ok());
  EXPECT_EQ(probe.error().reason(), "net.connect_failed");
  EXPECT_EQ(cds.StopWith(SIGTERM), 0);
}

}  // namespace
}  // namespace lunal
