// The instance agent end to end, outside any sandbox: the built lunald-instance with a spec in a
// temporary folder, a test-side simulated TDX device (a Unix-socket server in front of a real
// SimTdxAttester, device.h's wire format), a CDS over HTTP on 127.0.0.1, and a python3 app. A
// gateway enrolled at the same CDS calls the app through mesh TLS.
#include "lunal/cds/instance.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "lunal/attest/engine/sim_source.h"
#include "lunal/attest/engine/verifier.h"
#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/attest/tdx/event_log_lunal.h"
#include "lunal/cds/cds.h"
#include "lunal/cds/enroll.h"
#include "lunal/cds/http.h"
#include "lunal/cds/manifest.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/dsse.h"
#include "lunal/crypto/x509.h"
#include "lunal/mesh/tls.h"
#include "lunal/net/client.h"
#include "lunal/net/errors.h"
#include "lunal/net/server.h"
#include "lunal/node/device.h"
#include "lunal/node/instance.h"
#include "lunal/testing/ports.h"
#include "lunal/testing/testing.h"

extern char** environ;

namespace lunal::node {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kBuild = "sha256:" + std::string(64, 'a');
const std::string kGatewayBuild = "sha256:" + std::string(64, 'b');
const std::string kOtherBuild = "sha256:" + std::string(64, 'c');
constexpr std::string_view kHello = "Hello from your secure Luna Lamp application!";

// The app: python3's http.server on $PORT; writes its pid to $PID_FILE; GET /api/hello answers
// the hello JSON, GET /slow answers after 0.5 s, GET /hangup closes without answering, POST
// /echo returns the body and the request headers it received.
constexpr std::string_view kAppPy = R"PY(
import http.server, json, os, time
with open(os.environ["PID_FILE"], "w") as f:
    f.write(str(os.getpid()))
class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-App", "hello-python")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path == "/api/hello":
            self.reply(200, {"message": "Hello from your secure Luna Lamp application!"})
        elif self.path == "/hangup":
            self.close_connection = True
        elif self.path == "/slow":
            time.sleep(0.5)
            self.reply(200, {"slow": True})
        else:
            self.reply(404, {"error": "not found"})
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.reply(201, {"path": self.path, "body": body, "headers": headers})
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
)PY";

// ---- the simulated TDX device, the node's side (device.h wire format) ----

class TestDevice {
 public:
  TestDevice(std::shared_ptr<const attest::sim::SimulationRoot> root, std::string path)
      : path_(std::move(path)) {
    const auto image = crypto::Sha384(AsBytes("instance test image"));
    auto attester = attest::sim::SimTdxAttester::Create(
        std::move(root), {.mr_td = Bytes(image.begin(), image.end())});
    EXPECT_TRUE(attester.ok()) << attester.error();
    attester_ = std::move(*attester);
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    EXPECT_LT(path_.size(), sizeof(addr.sun_path));
    std::memcpy(addr.sun_path, path_.data(), path_.size());
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_fd_, 16), 0);
    thread_ = std::thread([this] { Loop(); });
  }
  ~TestDevice() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
  }

  std::vector<std::string> Ops() const {
    std::lock_guard lock(mu_);
    return ops_;
  }
  // Waits for a "ready" or "failed" report; returns the request (null on timeout).
  Json WaitForReport(milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [this] { return !report_.is_null(); });
    return report_;
  }
  // Waits until at least `n` quotes were served.
  bool WaitForQuotes(std::size_t n, milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      return static_cast<std::size_t>(std::count(ops_.begin(), ops_.end(), "quote")) >= n;
    });
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{.fd = listen_fd_, .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::string line;
      char buf[4096];
      while (line.find('\n') == std::string::npos) {
        const ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n <= 0) break;
        line.append(buf, static_cast<std::size_t>(n));
      }
      const std::string answer = Handle(line.substr(0, line.find('\n'))).dump() + "\n";
      [[maybe_unused]] auto written = ::write(fd, answer.data(), answer.size());
      ::close(fd);
    }
  }

  static Json Error(std::string_view reason, std::string_view message) {
    return Json{{"ok", false}, {"reason", reason}, {"message", message}};
  }

  Json Handle(const std::string& line) {
    auto request = ParseJson(line);
    if (!request.ok() || !request->is_object()) return Error("node.device.bad_request", "json");
    const std::string op = request->value("op", "");
    std::lock_guard lock(mu_);
    if (op == "extend") {
      if (request->value("rtmr", -1) != 3) return Error("node.device.bad_rtmr", "RTMR3 only");
      auto event = Base64Decode(request->value("event", ""));
      if (!event.ok()) return Error("node.device.bad_request", "event");
      auto decoded = attest::tdx::DecodeLunalEvent(*event);
      if (!decoded.ok()) return Error("node.device.bad_event", decoded.error().message());
      ops_.push_back("extend:" + std::string(attest::tdx::LunalEventTypeName(decoded->type)) + "=" +
                     decoded->value);
      const auto digest = crypto::Sha384(*event);
      if (Status s = attester_->ExtendRtmr(3, digest, *event); !s.ok()) {
        return Error(s.reason(), s.message());
      }
      return Json{{"ok", true}};
    }
    if (op == "quote") {
      auto rd = HexDecode(request->value("report_data", ""));
      if (!rd.ok() || rd->size() != attest::kReportDataSize) {
        return Error("node.device.bad_request", "report_data");
      }
      ops_.push_back("quote");
      auto evidence =
          attester_->Attest(std::span<const std::uint8_t, attest::kReportDataSize>(rd->data(), 64));
      if (!evidence.ok()) return Error(evidence.error().reason(), evidence.error().message());
      cv_.notify_all();
      return Json{{"ok", true}, {"evidence", cds::EvidenceEnvelope(*evidence)}};
    }
    if (op == "ready" || op == "failed") {
      ops_.push_back(op == "failed" ? "failed:" + request->value("reason", "") : op);
      report_ = *request;
      cv_.notify_all();
      return Json{{"ok", true}};
    }
    return Error("node.device.bad_op", op);
  }

  std::string path_;
  std::unique_ptr<attest::sim::SimTdxAttester> attester_;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> ops_;  // guarded by mu_
  Json report_ = nullptr;         // guarded by mu_
};

// ---- the fixture: CDS over HTTP, the device, the agent process ----

class InstanceAgentTest : public ::testing::Test {
 protected:
  explicit InstanceAgentTest(seconds lifetime = seconds(3600)) : lifetime_(lifetime) {}

  void SetUp() override {
    ASSERT_TRUE(lunal::testing::HaveProgram("/usr/bin/python3"));
    auto root = attest::sim::SimulationRoot::Open(dir_ / "sim", clock_);
    ASSERT_TRUE(root.ok()) << root.error();
    root_ = *root;
    auto verifier = attest::engine::MakeLocalVerifier(
        {.collateral = attest::engine::MakeSimulationSource(root_),
         .simulated_anchors = {root_->Anchor()},
         .clock = &clock_});
    auto op_key = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
    ASSERT_TRUE(op_key.ok());
    auto cds = cds::Cds::Open({.state_dir = dir_ / "cds",
                               .operator_key_pem = *(*op_key->PublicKey()).ToPem(),
                               .verifier = std::move(verifier),
                               .clock = &clock_,
                               .certificate_lifetime = lifetime_});
    ASSERT_TRUE(cds.ok()) << cds.error();
    cds_ = std::move(*cds);
    ASSERT_TRUE(cds_->PutManifest(Manifest(*op_key)).ok());
    auto router = cds::MakeRouter(*cds_, {});
    ASSERT_TRUE(router.ok());
    cds_server_ =
        std::make_unique<net::HttpServer>(net::ServerOptions{.threads = 2}, std::move(*router));
    ASSERT_TRUE(cds_server_->Start().ok());
    cds_url_ = fmt::format("http://127.0.0.1:{}", cds_server_->port());
    device_ = std::make_unique<TestDevice>(root_, (dir_ / "tdx.sock").string());

    std::filesystem::create_directories(dir_ / "app");
    lunal::testing::WriteFile(dir_ / "app" / "server.py", kAppPy);
    spec_ = InstanceSpec{.tenant = "acme",
                         .deployment = "api",
                         .instance_id = "i-1",
                         .build_hash = kBuild,
                         .cds_url = cds_url_,
                         .cds_ca_pem = cds_->ca_certificate().ToPem(),
                         .listen_port = 0,
                         .app_port = app_port_.port(),
                         .app_dir = (dir_ / "app").string(),
                         .command = {"/usr/bin/python3", "server.py"},
                         .env = {{"PID_FILE", (dir_ / "app.pid").string()}},
                         .device = (dir_ / "tdx.sock").string(),
                         .drain_ms = 500,
                         .app_grace_ms = 2000};
  }

  void TearDown() override {
    if (agent_pid_ > 0) {
      ::kill(agent_pid_, SIGKILL);
      ::waitpid(agent_pid_, nullptr, 0);
    }
    if (const pid_t app = AppPid(); app > 0) ::kill(app, SIGKILL);
    if (cds_server_) cds_server_->Stop(milliseconds(0));
  }

  std::string Manifest(const crypto::PrivateKey& key) {
    auto entry = [](std::string t, std::string d, std::string h) {
      return Json{
          {"tenant", t}, {"deployment", d}, {"build_hashes", {h}}, {"allow_simulated", true}};
    };
    Json payload = {{"version", 1},
                    {"issued_at", "2026-11-21T12:00:00Z"},
                    {"entries", Json::array({entry("acme", "api", kBuild),
                                             entry("lunal", "gateway", kGatewayBuild),
                                             entry("acme", "other", kOtherBuild)})}};
    crypto::DsseEnvelope env{.payload_type = std::string(cds::kAllowListPayloadType),
                             .payload = ToBytes(payload.dump()),
                             .signatures = {}};
    env.signatures.push_back(*crypto::SignDsse(env, key, "operator"));
    return crypto::SerializeDsse(env);
  }

  // Writes the spec and starts lunald-instance; stderr (its log) is the test's.
  void StartAgent() {
    lunal::testing::WriteFile(dir_ / "instance.json", ToJson(spec_).dump());
    const std::string binary =
        (lunal::testing::BinaryDir() / "src/lunald/lunald-instance").string();
    const std::string spec_path = (dir_ / "instance.json").string();
    std::vector<char*> argv = {const_cast<char*>(binary.c_str()), const_cast<char*>("--spec"),
                               const_cast<char*>(spec_path.c_str()), nullptr};
    ASSERT_EQ(::posix_spawn(&agent_pid_, binary.c_str(), nullptr, nullptr, argv.data(), environ), 0)
        << binary;
  }

  // The agent's exit status (-1 on timeout, -2 killed by a signal).
  int WaitForAgentExit(milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(agent_pid_, &status, WNOHANG) == agent_pid_) {
        agent_pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    return -1;
  }

  pid_t AppPid() {
    auto text = ReadFileIfExists(dir_ / "app.pid");
    return text.ok() && *text && !(*text)->empty() ? static_cast<pid_t>(std::stoi(**text)) : -1;
  }

  // A mesh identity enrolled at the CDS the way any attested component does (cds::Enroll).
  std::shared_ptr<mesh::MeshCredentials> Enrol(const std::string& tenant,
                                               const std::string& deployment,
                                               const std::string& build_hash) {
    const auto image = crypto::Sha384(AsBytes("gateway image"));
    auto attester =
        attest::sim::SimTdxAttester::Create(root_, {.mr_td = Bytes(image.begin(), image.end())});
    EXPECT_TRUE(attester.ok());
    auto event = attest::tdx::EncodeLunalEvent(
        {.type = attest::tdx::LunalEventType::kBuildHash, .value = build_hash});
    const auto digest = crypto::Sha384(*event);
    EXPECT_TRUE((*attester)->ExtendRtmr(3, digest, *event).ok());
    auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
    auto e = cds::Enroll({.cds_url = cds_url_,
                          .attester = attester->get(),
                          .key = &*key,
                          .tenant = tenant,
                          .deployment = deployment,
                          .instance = "gw-1",
                          .build_hash = build_hash});
    EXPECT_TRUE(e.ok()) << e.error();
    if (!e.ok()) return nullptr;
    auto creds = mesh::MeshCredentials::Load(e->certificate_pem, e->key_pem);
    EXPECT_TRUE(creds.ok()) << creds.error();
    return creds.ok() ? *creds : nullptr;
  }

  // A mesh TLS client holding `self` that expects the instance of the spec.
  std::unique_ptr<net::HttpClient> MeshClient(std::shared_ptr<mesh::MeshCredentials> self) {
    auto trust = mesh::MeshTrust::FromPem(spec_.cds_ca_pem, clock_);
    EXPECT_TRUE(trust.ok());
    auto tls = mesh::MeshClientTls(std::move(self), std::move(*trust),
                                   {.tenant = "acme",
                                    .deployment = "api",
                                    .instance = "i-1",
                                    .build_hashes = {kBuild},
                                    .allow_simulated = true});
    EXPECT_TRUE(tls.ok()) << tls.error();
    return std::make_unique<net::HttpClient>(
        net::ClientOptions{.request_timeout = seconds(10), .tls = std::move(*tls)});
  }

  // Starts the agent and waits for its ready report; returns the mesh address.
  std::string StartReady() {
    StartAgent();
    Json report = device_->WaitForReport(seconds(40));
    EXPECT_EQ(report.value("op", ""), "ready") << report.dump();
    return report.value("address", "");
  }

  seconds lifetime_;
  lunal::testing::TempDir dir_;
  lunal::testing::ReservedPort app_port_;  // the app binds it itself (ports.h)
  const Clock& clock_ = SystemClock::Instance();
  std::shared_ptr<const attest::sim::SimulationRoot> root_;
  std::unique_ptr<cds::Cds> cds_;
  std::unique_ptr<net::HttpServer> cds_server_;
  std::string cds_url_;
  std::unique_ptr<TestDevice> device_;
  InstanceSpec spec_;
  pid_t agent_pid_ = -1;
};

TEST_F(InstanceAgentTest, AttestsEnrolsAndServesTheAppBehindMeshTls) {
  const std::string address = StartReady();
  ASSERT_FALSE(address.empty());
  EXPECT_TRUE(address.starts_with("127.0.0.1:")) << address;

  // The device saw RTMR3 extended with the build hash (then the instance id) before the quote.
  const auto ops = device_->Ops();
  ASSERT_GE(ops.size(), 4u);
  EXPECT_EQ(ops[0], "extend:lunal.build-hash=" + kBuild);
  EXPECT_EQ(ops[1], "extend:lunal.instance-id=i-1");
  EXPECT_EQ(ops[2], "quote");
  EXPECT_EQ(ops[3], "ready");

  // The ready report carries the certificate the CDS issued for this instance and the evidence.
  Json report = device_->WaitForReport(seconds(1));
  auto chain = crypto::ParsePemChain(report.value("certificate_pem", ""));
  ASSERT_TRUE(chain.ok()) << chain.error();
  ASSERT_EQ(chain->size(), 2u);  // leaf, then the CDS CA
  EXPECT_EQ((*chain)[1].ToPem(), spec_.cds_ca_pem);
  auto identity = mesh::ParseMeshCertificate((*chain)[0]);
  ASSERT_TRUE(identity.ok()) << identity.error();
  EXPECT_EQ(identity->Uri(), "lunal://acme/api/i-1");
  EXPECT_EQ(identity->build_hash, kBuild);
  EXPECT_EQ(report["evidence"].value("platform", ""), "tdx");
  EXPECT_FALSE(report.value("nonce", "").empty());

  // The gateway gets the app's answer through mesh TLS, from the instance it expects.
  auto gateway = MeshClient(Enrol("lunal", "gateway", kGatewayBuild));
  auto hello = gateway->Send({.method = "GET", .url = "https://" + address + "/api/hello"});
  ASSERT_TRUE(hello.ok()) << hello.error();
  EXPECT_EQ(hello->status, 200);
  auto body = ParseJson(hello->body);
  ASSERT_TRUE(body.ok()) << hello->body;
  EXPECT_EQ((*body)["message"], kHello);
  EXPECT_EQ(hello->Header("X-App").value_or(""), "hello-python");
  auto server = mesh::PeerIdentity(*hello);
  ASSERT_TRUE(server.ok()) << server.error();
  EXPECT_EQ(server->build_hash, spec_.build_hash);
  EXPECT_EQ(server->instance, "i-1");
  EXPECT_TRUE(server->simulated);

  // Method, path, query, body and end-to-end headers pass; hop-by-hop ones do not.
  auto echo = gateway->Send({.method = "POST",
                             .url = "https://" + address + "/echo?x=1",
                             .headers = {{"X-Custom", "kept"}, {"Proxy-Authorization", "secret"}},
                             .body = "ping"});
  ASSERT_TRUE(echo.ok()) << echo.error();
  EXPECT_EQ(echo->status, 201);
  auto echoed = ParseJson(echo->body);
  ASSERT_TRUE(echoed.ok()) << echo->body;
  EXPECT_EQ((*echoed)["path"], "/echo?x=1");
  EXPECT_EQ((*echoed)["body"], "ping");
  EXPECT_EQ((*echoed)["headers"].value("x-custom", ""), "kept");
  EXPECT_FALSE((*echoed)["headers"].contains("proxy-authorization"));

  // An app that hangs up is the agent's 502.
  auto hangup = gateway->Send({.method = "GET", .url = "https://" + address + "/hangup"});
  ASSERT_TRUE(hangup.ok()) << hangup.error();
  EXPECT_EQ(hangup->status, 502);
  EXPECT_EQ(net::StatusFromErrorBody(hangup->status, hangup->body).reason(),
            "instance.app_unavailable");

  // The app's own 404 passes through; the agent's health endpoint is its own.
  auto missing = gateway->Send({.method = "GET", .url = "https://" + address + "/nope"});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  auto health = gateway->SendJson("GET", "https://" + address + "/.lunal/health");
  ASSERT_TRUE(health.ok()) << health.error();
  EXPECT_EQ(*health, (Json{{"status", "ok"}, {"instance", "i-1"}}));
}

TEST_F(InstanceAgentTest, RefusesClientsWithoutTheGatewayCertificateInTheHandshake) {
  const std::string address = StartReady();
  ASSERT_FALSE(address.empty());

  // No client certificate at all (the server's chain is accepted blindly here).
  net::HttpClient anonymous(
      {.request_timeout = seconds(10),
       .tls = {.verify_server = [](std::span<const Bytes>) { return Status(); },
               .tls13_only = true}});
  auto r = anonymous.Send({.method = "GET", .url = "https://" + address + "/api/hello"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "net.tls_handshake_failed") << r.error();

  // A CDS certificate, but of another deployment of the same tenant.
  auto other = MeshClient(Enrol("acme", "other", kOtherBuild));
  r = other->Send({.method = "GET", .url = "https://" + address + "/api/hello"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "net.tls_handshake_failed") << r.error();

  // The gateway still gets through.
  auto gateway = MeshClient(Enrol("lunal", "gateway", kGatewayBuild));
  r = gateway->Send({.method = "GET", .url = "https://" + address + "/api/hello"});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->status, 200);
}

TEST_F(InstanceAgentTest, SigtermDrainsStopsTheAppAndExitsZero) {
  spec_.drain_ms = 3000;
  const std::string address = StartReady();
  ASSERT_FALSE(address.empty());
  const pid_t app = AppPid();
  ASSERT_GT(app, 0);
  ASSERT_EQ(::kill(app, 0), 0);

  // A request in flight when SIGTERM arrives still gets its answer (step 8's drain).
  auto gateway = MeshClient(Enrol("lunal", "gateway", kGatewayBuild));
  ASSERT_TRUE(gateway->Send({.method = "GET", .url = "https://" + address + "/api/hello"}).ok());
  Result<net::HttpResponse> slow = Internal("test.not_run", "");
  std::thread in_flight(
      [&] { slow = gateway->Send({.method = "GET", .url = "https://" + address + "/slow"}); });
  std::this_thread::sleep_for(milliseconds(200));
  ASSERT_EQ(::kill(agent_pid_, SIGTERM), 0);
  in_flight.join();
  ASSERT_TRUE(slow.ok()) << slow.error();
  EXPECT_EQ(slow->status, 200);

  EXPECT_EQ(WaitForAgentExit(seconds(15)), 0);
  EXPECT_EQ(::kill(app, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(InstanceAgentTest, AppExitingEndsTheAgentWithStatus3) {
  ASSERT_FALSE(StartReady().empty());
  const pid_t app = AppPid();
  ASSERT_GT(app, 0);
  ASSERT_EQ(::kill(app, SIGKILL), 0);
  EXPECT_EQ(WaitForAgentExit(seconds(15)), 3);
}

// Step 7's liveness check: a live app passes probe after probe; a hung one (SIGSTOP: the kernel
// still completes TCP handshakes for it, so only an HTTP exchange notices) fails
// health_failures probes in a row, and the agent stops it and exits with kInstanceExitUnhealthy.
TEST_F(InstanceAgentTest, HungAppFailsItsLivenessCheckAndEndsTheAgentWithStatus4) {
  spec_.health_path = "/api/hello";
  spec_.health_interval_ms = 200;
  spec_.health_timeout_ms = 300;
  spec_.health_failures = 2;
  spec_.app_grace_ms = 500;
  ASSERT_FALSE(StartReady().empty());
  const pid_t app = AppPid();
  ASSERT_GT(app, 0);
  std::this_thread::sleep_for(milliseconds(1500));  // ~7 probes, all answered
  ASSERT_EQ(WaitForAgentExit(milliseconds(0)), -1) << "a live app was judged unhealthy";

  ASSERT_EQ(::kill(app, SIGSTOP), 0);
  // 2 failed probes (≤ 2 × (200 + 300) ms), then SIGTERM and SIGKILL after 500 ms.
  EXPECT_EQ(WaitForAgentExit(seconds(15)), kInstanceExitUnhealthy);
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(::kill(app, 0), -1) << "the hung app outlived its agent";
}

TEST(InstanceSpecTest, HealthCheckFieldsRoundTripAndAreChecked) {
  InstanceSpec spec{.tenant = "acme",
                    .deployment = "api",
                    .instance_id = "i-1",
                    .build_hash = kBuild,
                    .cds_url = "http://127.0.0.1:1",
                    .cds_ca_pem = "pem",
                    .app_port = 8080,
                    .command = {"/bin/true"}};
  spec.health_path = "/healthz";
  spec.health_interval_ms = 0;  // off
  auto parsed = ParseInstanceSpec(ToJson(spec));
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->health_path, "/healthz");
  EXPECT_EQ(parsed->health_interval_ms, 0);
  EXPECT_EQ(parsed->health_failures, 3);
  for (const auto& [field, value] :
       std::vector<std::pair<std::string, Json>>{{"health_path", "healthz"},
                                                 {"health_path", "/a b"},
                                                 {"health_timeout_ms", 0},
                                                 {"health_failures", 0},
                                                 {"health_failures", 101},
                                                 {"health_interval_ms", -1}}) {
    Json doc = ToJson(spec);
    doc[field] = value;
    auto bad = ParseInstanceSpec(doc);
    ASSERT_FALSE(bad.ok()) << field << "=" << value.dump();
    EXPECT_EQ(bad.error().reason(), "node.spec.bad_field") << field;
    EXPECT_NE(bad.error().message().find(field), std::string::npos) << bad.error();
  }
}

TEST_F(InstanceAgentTest, AppThatExitsBeforeListeningIsReportedAsFailed) {
  spec_.command = {"/usr/bin/python3", "-c", "import sys; sys.exit(7)"};
  StartAgent();
  Json report = device_->WaitForReport(seconds(40));
  EXPECT_EQ(report.value("op", ""), "failed");
  EXPECT_EQ(report.value("reason", ""), "instance.app_exited");
  EXPECT_NE(report.value("message", "").find("status 7"), std::string::npos) << report.dump();
  EXPECT_EQ(WaitForAgentExit(seconds(15)), 1);
}

TEST_F(InstanceAgentTest, BuildNotOnTheAllowListIsReportedAsFailedWithTheCdsReason) {
  spec_.build_hash = kOtherBuild;  // listed for acme/other, not for acme/api
  StartAgent();
  Json report = device_->WaitForReport(seconds(40));
  EXPECT_EQ(report.value("op", ""), "failed");
  EXPECT_EQ(report.value("reason", ""), "cds.allow_list.build_hash");
  EXPECT_EQ(WaitForAgentExit(seconds(15)), 1);
  EXPECT_EQ(AppPid(), -1);  // the app never started
  const auto ops = device_->Ops();
  EXPECT_EQ(std::count(ops.begin(), ops.end(), "ready"), 0);
}

// DeviceAttester against canned answers: each call one connection, one line each way.
class CannedDevice {
 public:
  CannedDevice(std::string path, std::string answer) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    thread_ = std::thread([this] {
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      char buf[65536];
      std::string got;
      while (got.find('\n') == std::string::npos) {
        const ssize_t n = ::read(c, buf, sizeof(buf));
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
      }
      request_ = got;
      [[maybe_unused]] auto w = ::write(c, answer_.data(), answer_.size());
      ::close(c);
    });
  }
  ~CannedDevice() {
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  // The first line the client sent (after the exchange).
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return request_.substr(0, request_.find('\n'));
  }

 private:
  std::string answer_;
  int fd_ = -1;
  std::thread thread_;
  std::string request_;
};

TEST(DeviceAttesterTest, WireFormatAndErrors) {
  lunal::testing::TempDir dir;
  const std::string path = (dir / "d.sock").string();
  DeviceAttester device(path);
  const auto event = *attest::tdx::EncodeLunalEvent(
      {.type = attest::tdx::LunalEventType::kBuildHash, .value = kBuild});
  const auto digest = crypto::Sha384(event);

  // Nothing listening.
  EXPECT_EQ(device.ExtendRtmr(3, digest, event).reason(), "node.device.unavailable");
  // Refused before sending: another RTMR, a digest that is not SHA-384(event).
  EXPECT_EQ(device.ExtendRtmr(2, digest, event).reason(), "node.device.bad_rtmr");
  EXPECT_EQ(device.ExtendRtmr(3, Bytes(48, 0), event).reason(), "node.device.bad_digest");

  {  // The request is one JSON line; {"ok": true} is success.
    CannedDevice canned(path, "{\"ok\": true}\n");
    EXPECT_TRUE(device.ExtendRtmr(3, digest, event).ok());
    auto sent = ParseJson(canned.request());
    ASSERT_TRUE(sent.ok());
    EXPECT_EQ(*sent, (Json{{"op", "extend"}, {"rtmr", 3}, {"event", Base64Encode(event)}}));
    ::unlink(path.c_str());
  }
  {  // The server's own reason and code pass through.
    CannedDevice canned(path, R"({"ok": false, "reason": "node.device.refused", "message": "no",)"
                              R"( "code": "permission_denied"})"
                              "\n");
    Status s = device.ReportFailed("x.y", "z");
    EXPECT_EQ(s.reason(), "node.device.refused");
    EXPECT_EQ(s.code(), Code::kPermissionDenied);
    auto sent = ParseJson(canned.request());
    EXPECT_EQ(*sent, (Json{{"op", "failed"}, {"reason", "x.y"}, {"message", "z"}}));
    ::unlink(path.c_str());
  }
  for (const std::string answer : {"not json\n", "{\"ok\": true}", "{\"evidence\": 1}\n",
                                   "{\"ok\": true, \"evidence\": {\"platform\": \"snp\"}}\n"}) {
    CannedDevice canned(path, answer);
    std::array<std::uint8_t, 64> rd{};
    auto r = device.Attest(rd);
    EXPECT_EQ(r.ok() ? "ok" : r.error().reason(), "node.device.bad_response") << answer;
    ::unlink(path.c_str());
  }
}

TEST_F(InstanceAgentTest, MissingCommandIsABadSpec) {
  Json spec = ToJson(spec_);
  spec.erase("command");
  EXPECT_EQ(ParseInstanceSpec(spec).error().reason(), "node.spec.bad_field");
  spec = ToJson(spec_);
  spec["surprise"] = 1;
  EXPECT_EQ(ParseInstanceSpec(spec).error().reason(), "node.spec.bad_field");
  auto back = ParseInstanceSpec(ToJson(spec_));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(ToJson(*back), ToJson(spec_));
}

// Certificates that live 3 s: the agent re-attests (a fresh quote) about every 2 s, and keeps
// serving with the renewed certificate.
class InstanceRenewalTest : public InstanceAgentTest {
 protected:
  InstanceRenewalTest() : InstanceAgentTest(seconds(3)) {}
};

TEST_F(InstanceRenewalTest, RenewsAtTwoThirdsOfTheLifetime) {
  const std::string address = StartReady();
  ASSERT_FALSE(address.empty());
  auto gateway = MeshClient(Enrol("lunal", "gateway", kGatewayBuild));
  auto first = gateway->Send({.method = "GET", .url = "https://" + address + "/api/hello"});
  ASSERT_TRUE(first.ok()) << first.error();
  const auto first_serial = mesh::PeerIdentity(*first)->serial_hex;

  ASSERT_TRUE(device_->WaitForQuotes(3, seconds(10)));             // enrolment + two renewals
  gateway = MeshClient(Enrol("lunal", "gateway", kGatewayBuild));  // its own expired too
  auto later = gateway->Send({.method = "GET", .url = "https://" + address + "/api/hello"});
  ASSERT_TRUE(later.ok()) << later.error();
  EXPECT_EQ(later->status, 200);
  EXPECT_NE(mesh::PeerIdentity(*later)->serial_hex, first_serial);
}

}  // namespace
}  // namespace lunal::node
