// The gateway against real mesh certificates: an in-process CDS (src/cds/test_support.h) appraises
// sim-tdx evidence and issues the gateway's identity (lunal/gateway) and the instances' (acme/api);
// each instance is a net::HttpServer behind mesh::MeshServerTls that echoes what it received.
#include "lunal/gateway/gateway.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "gateway_test_support.h"
#include "http_util.h"
#include "lunal/mesh/tls.h"
#include "lunal/net/client.h"
#include "lunal/net/errors.h"
#include "lunal/net/server.h"
#include "lunal/testing/ports.h"
#include "metrics.h"

namespace lunal::gateway {
namespace {

using cds::testing::BuildHash;
using cds::testing::Entry;
using cds::testing::SignManifest;
using namespace std::chrono_literals;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---- RankBackends against an independent implementation (Debian's python3 hashlib) ----

TEST(RankBackendsTest, KnownValues) {
  // Computed with: python3 -c 'import hashlib;
  //   print(int.from_bytes(hashlib.sha256(b"alice\0i-1").digest()[:8], "big"))'
  EXPECT_EQ(RendezvousScore("alice", "i-1"), 11873423197968532641u);
  EXPECT_EQ(RendezvousScore("alice", "i-2"), 14178592656722649973u);
  const std::vector<Backend> two = {{.instance_id = "i-1", .address = "a"},
                                    {.instance_id = "i-2", .address = "b"}};
  EXPECT_EQ(RankBackends("alice", two), (std::vector<std::size_t>{1, 0}));
  // Equal ids tie on the score: the earlier index first.
  const std::vector<Backend> same = {{.instance_id = "x", .address = "a"},
                                     {.instance_id = "x", .address = "b"}};
  EXPECT_EQ(RankBackends("k", same), (std::vector<std::size_t>{0, 1}));
  EXPECT_TRUE(RankBackends("k", {}).empty());
}

TEST(RankBackendsTest, MatchesPythonHashlib) {
  if (!lunal::testing::HaveProgram("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  const std::vector<std::string> ids = {"i-1", "i-2", "i-3", "web-0", "web-1", "z"};
  const std::vector<std::string> keys = {"alice",       "bob",        "",
                                         "203.0.113.7", "k\xc3\xa9y", std::string(256, 'x')};
  std::vector<Backend> backends;
  for (const auto& id : ids) backends.push_back({.instance_id = id, .address = "127.0.0.1:1"});
  // For each key (hex on the command line): the scores in `ids` order, then the ranked ids.
  std::string script = R"(
import hashlib, sys
ids = sys.argv[1].split(",")
for hexkey in sys.argv[2:]:
    key = bytes.fromhex(hexkey)
    scored = [(int.from_bytes(hashlib.sha256(key + b"\0" + i.encode()).digest()[:8], "big"), i)
              for i in ids]
    ranked = sorted(scored, key=lambda t: (-t[0], t[1]))
    print(" ".join(str(s) for s, _ in scored) + " | " + " ".join(i for _, i in ranked))
)";
  std::vector<std::string> argv = {"/usr/bin/python3", "-c", script, "i-1,i-2,i-3,web-0,web-1,z"};
  for (const auto& key : keys) {
    std::string hex;
    for (char c : key) hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
    argv.push_back(hex.empty() ? "" : hex);
  }
  auto run = lunal::testing::RunProcess(argv);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::istringstream lines(run.out);
  for (const auto& key : keys) {
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));
    std::istringstream words(line);
    for (const auto& id : ids) {
      std::uint64_t expected = 0;
      words >> expected;
      EXPECT_EQ(RendezvousScore(key, id), expected) << key << " " << id;
    }
    std::string bar;
    words >> bar;
    ASSERT_EQ(bar, "|");
    std::vector<std::string> expected_order;
    for (std::string id; words >> id;) expected_order.push_back(id);
    std::vector<std::string> order;
    for (std::size_t i : RankBackends(key, backends)) order.push_back(ids[i]);
    EXPECT_EQ(order, expected_order) << key;
  }
}

// ---- HTTP helpers ----

TEST(HttpUtilTest, HostRouting) {
  using internal::HostDeployment;
  EXPECT_EQ(HostDeployment("api.localhost", "localhost"), "api");
  EXPECT_EQ(HostDeployment("API.LocalHost:7080", "localhost"), "api");
  EXPECT_EQ(HostDeployment("api.localhost.", "localhost"), "api");
  EXPECT_EQ(HostDeployment("a.b.example.com", "example.com"), "a.b");
  EXPECT_EQ(HostDeployment("localhost", "localhost"), std::nullopt);
  EXPECT_EQ(HostDeployment(".localhost", "localhost"), std::nullopt);
  EXPECT_EQ(HostDeployment("apilocalhost", "localhost"), std::nullopt);
  EXPECT_EQ(HostDeployment("api.localhost:x", "localhost"), std::nullopt);
  EXPECT_EQ(HostDeployment("api.example.org", "localhost"), std::nullopt);
  EXPECT_EQ(HostDeployment("[::1]:80", "localhost"), std::nullopt);
  EXPECT_EQ(HostDeployment("", "localhost"), std::nullopt);
}

TEST(HttpUtilTest, PathRouting) {
  using internal::PathDeployment;
  auto p = PathDeployment("/d/api/a/b%2Fc?x=1&y");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->name, "api");
  EXPECT_EQ(p->target, "/a/b%2Fc?x=1&y");
  EXPECT_EQ(PathDeployment("/d/Api")->target, "/");
  EXPECT_EQ(PathDeployment("/d/Api")->name, "api");
  EXPECT_EQ(PathDeployment("/d/api/")->target, "/");
  EXPECT_EQ(PathDeployment("/d/api?q")->target, "/?q");
  EXPECT_FALSE(PathDeployment("/d/").has_value());
  EXPECT_FALSE(PathDeployment("/d//x").has_value());
  EXPECT_FALSE(PathDeployment("/dd/api").has_value());
  EXPECT_FALSE(PathDeployment("/").has_value());
}

TEST(HttpUtilTest, RemoteIpAndHopByHop) {
  EXPECT_EQ(internal::RemoteIp("127.0.0.1:5000"), "127.0.0.1");
  EXPECT_EQ(internal::RemoteIp("[::1]:5000"), "::1");
  EXPECT_EQ(internal::RemoteIp("[2001:db8::7]:1"), "2001:db8::7");
  const net::HttpHeaders headers = {{"Connection", "keep-alive, X-A"}, {"connection", " x-b ,"}};
  const auto listed = internal::ConnectionOptions(headers);
  EXPECT_EQ(listed, (std::vector<std::string>{"keep-alive", "x-a", "x-b"}));
  for (const char* name : {"connection", "Keep-Alive", "TE", "Trailer", "transfer-encoding",
                           "Upgrade", "Proxy-Authorization", "proxy-connection", "X-A", "x-b"}) {
    EXPECT_TRUE(internal::IsHopByHop(name, listed)) << name;
  }
  for (const char* name : {"Host", "X-Forwarded-For", "Authorization", "Trailers", "X-C"}) {
    EXPECT_FALSE(internal::IsHopByHop(name, listed)) << name;
  }
}

// ---- the latency histogram ----

TEST(LatencyHistogramTest, BucketsBoundTheValueWithinOneSixteenth) {
  using H = internal::LatencyHistogram;
  for (std::uint64_t v : {0ull, 1ull, 15ull, 16ull, 17ull, 31ull, 32ull, 100ull, 1000ull, 12345ull,
                          999'999ull, 123'456'789ull}) {
    const std::uint64_t upper = H::UpperEdge(H::BucketOf(v));
    EXPECT_GE(upper, v);
    EXPECT_LE(static_cast<double>(upper), static_cast<double>(v) * (1.0 + 1.0 / 16) + 1) << v;
    if (H::BucketOf(v) > 0) {
      EXPECT_LT(H::UpperEdge(H::BucketOf(v) - 1), v);
    }
  }
  H h;
  for (std::uint64_t v = 1; v <= 1000; ++v) h.Record(v * 1000);  // 1..1000 ms
  EXPECT_GE(h.Quantile(0.5), 500'000u);
  EXPECT_LE(h.Quantile(0.5), 500'000u * 17 / 16);
  EXPECT_GE(h.Quantile(0.99), 990'000u);
  EXPECT_LE(h.Quantile(0.99), 990'000u * 17 / 16);
  EXPECT_EQ(H().Quantile(0.5), 0u);
}

// ---- the gateway end to end ----

class GatewayTest : public testing::MeshCdsFixture {
 protected:
  void SetUp() override {
    MeshCdsFixture::SetUp();
    if (HasFatalFailure()) return;
    // The allow-list names the gateway (a platform component) and two builds of acme/api; routes
    // below allow only build 'a', so an instance running 'c' holds a valid CDS certificate that
    // the gateway must still refuse.
    ASSERT_TRUE(
        cds_->PutManifest(SignManifest(*operator_key_, 2,
                                       Json::array({Entry("acme", "api", {kGood, kOther}),
                                                    Entry("lunal", "gateway", {BuildHash('f')})})))
            .ok());
    gateway_credentials_ = Issue(BuildHash('f'), "lunal", "gateway", "gateway-0");
    ASSERT_NE(gateway_credentials_, nullptr);
    auto gw = Gateway::Start({.threads = 2,
                              .credentials = gateway_credentials_,
                              .mesh_ca_pem = ca_pem_,
                              .clock = &clock_,
                              .upstream_timeout = 10s,
                              .quarantine = 5s});
    ASSERT_TRUE(gw.ok()) << gw.error();
    gateway_ = std::move(*gw);
  }

  void TearDown() override {
    if (gateway_) gateway_->Stop(100ms);
    for (auto& [id, server] : instances_) server->Stop(100ms);
  }

  // Starts instance `id` of acme/api running `build_hash`: mesh TLS that admits only the gateway,
  // answering every request with what it saw.
  Backend StartInstance(const std::string& id, const std::string& build_hash) {
    auto creds = Issue(build_hash, "acme", "api", id);
    auto trust = mesh::MeshTrust::FromPem(ca_pem_, clock_);
    EXPECT_TRUE(trust.ok());
    auto tls = mesh::MeshServerTls(
        creds, *trust,
        {.tenant = "lunal", .deployment = "gateway", .any_build = true, .allow_simulated = true});
    EXPECT_TRUE(tls.ok()) << tls.error();
    net::Router router;
    router.SetFallback([id](net::HttpRequest& req) {
      Json headers = Json::object();
      for (const auto& [name, value] : req.headers) headers[Lower(name)] = value;
      auto peer = mesh::PeerIdentity(req);
      net::HttpResponse response =
          net::HttpResponse::Json(200, {{"instance", id},
                                        {"peer", peer.ok() ? peer->Uri() : ""},
                                        {"method", req.method},
                                        {"target", req.target},
                                        {"body", req.body},
                                        {"headers", headers}});
      if (req.path == "/fail") response.status = 503;
      response.AddHeader("Keep-Alive", "timeout=5")
          .AddHeader("Proxy-Authenticate", "Basic")
          .AddHeader("Upgrade", "h2c")
          .AddHeader("X-Lunal-Instance", "spoofed")
          .AddHeader("X-App", "kept");
      return response;
    });
    net::ServerOptions options;
    options.threads = 2;
    options.tls = std::move(*tls);
    auto server = std::make_unique<net::HttpServer>(std::move(options), std::move(router));
    EXPECT_TRUE(server->Start().ok());
    const Backend backend{.instance_id = id,
                          .address = fmt::format("127.0.0.1:{}", server->port())};
    instances_[id] = std::move(server);
    return backend;
  }

  void Route(std::vector<Backend> backends, std::vector<std::string> hashes = {kGood}) {
    gateway_->SetRoute({.tenant = "acme",
                        .deployment = "api",
                        .build_hashes = std::move(hashes),
                        .allow_simulated = true,
                        .backends = std::move(backends)});
  }

  net::HttpResponse Get(const std::string& target, std::optional<std::string> key = std::nullopt,
                        std::optional<std::string> host = std::nullopt) {
    net::HttpClientRequest request{
        .method = "GET",
        .url = fmt::format("http://127.0.0.1:{}{}", gateway_->port(), target),
        .headers = {},
        .body = {}};
    if (key) request.headers.emplace_back("X-Lunal-Client-Key", *key);
    if (host) request.headers.emplace_back("Host", *host);
    auto response = client_.Send(request);
    EXPECT_TRUE(response.ok()) << response.error();
    return response.ok() ? *response : net::HttpResponse{.status = 0, .headers = {}, .body = {}};
  }

  static Json Body(const net::HttpResponse& r) {
    auto j = ParseJson(r.body);
    return j.ok() ? *j : Json();
  }
  static std::string Reason(const net::HttpResponse& r) {
    return net::StatusFromErrorBody(r.status, r.body).reason();
  }
  // The instance that answered, from the echo (and the gateway's header, which must agree).
  static std::string Who(const net::HttpResponse& r) {
    const std::string from_body = Body(r).value("instance", "");
    EXPECT_EQ(r.Header("X-Lunal-Instance").value_or(""), from_body);
    return from_body;
  }

  inline static const std::string kGood = BuildHash('a');
  inline static const std::string kOther = BuildHash('c');
  std::shared_ptr<mesh::MeshCredentials> gateway_credentials_;
  std::unique_ptr<Gateway> gateway_;
  std::map<std::string, std::unique_ptr<net::HttpServer>> instances_;
  net::HttpClient client_;
};

TEST_F(GatewayTest, RoutesByPathAndHost) {
  Route({StartInstance("i-1", kGood)});

  auto r = Get("/d/api/hello/world?x=1&y=a%20b", "k");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Who(r), "i-1");
  EXPECT_EQ(Body(r)["target"], "/hello/world?x=1&y=a%20b");       // prefix stripped, query kept
  EXPECT_EQ(Body(r)["peer"], "lunal://lunal/gateway/gateway-0");  // the gateway's mesh identity
  EXPECT_EQ(Body(Get("/d/api"))["target"], "/");
  EXPECT_EQ(Body(Get("/d/api?q=1"))["target"], "/?q=1");
  EXPECT_EQ(Body(Get("/d/API/x"))["target"], "/x");

  // By Host, case-insensitive, with or without a port; the path goes as it is.
  r = Get("/some/path?z=2", std::nullopt, "API.LocalHost:8080");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["target"], "/some/path?z=2");
  EXPECT_EQ(Body(r)["headers"]["x-forwarded-host"], "API.LocalHost:8080");
  EXPECT_EQ(Body(r)["headers"]["x-forwarded-proto"], "http");
  EXPECT_EQ(Body(r)["headers"]["x-forwarded-for"], "127.0.0.1");
  EXPECT_EQ(Body(Get("/d/other/x", std::nullopt, "api.localhost"))["target"], "/d/other/x");
  // Host names the gateway itself: path routing applies.
  EXPECT_EQ(Body(Get("/d/api/y", std::nullopt, "localhost:7080"))["target"], "/y");

  // Unknown deployments.
  r = Get("/d/nope/x");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Reason(r), "gateway.no_such_deployment");
  r = Get("/", std::nullopt, "nope.localhost");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Reason(r), "gateway.no_such_deployment");
  EXPECT_EQ(Reason(Get("/anything")), "gateway.no_such_deployment");
  EXPECT_EQ(Get("/", std::nullopt, "api.example.com").status, 404);
}

TEST_F(GatewayTest, OneClientKeySticksToOneInstanceAndKeysSpreadOverBoth) {
  const std::vector<Backend> backends = {StartInstance("i-1", kGood), StartInstance("i-2", kGood)};
  Route(backends);

  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto r = Get("/d/api/who", "sticky-client");
    ASSERT_EQ(r.status, 200) << r.body;
    seen.insert(Who(r));
  }
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(*seen.begin(), backends[RankBackends("sticky-client", backends)[0]].instance_id);

  std::map<std::string, int> per_instance;
  for (int k = 0; k < 100; ++k) {
    const std::string key = fmt::format("client-{}", k);
    auto r = Get("/d/api/who", key);
    ASSERT_EQ(r.status, 200) << r.body;
    const std::string who = Who(r);
    EXPECT_EQ(who, backends[RankBackends(key, backends)[0]].instance_id) << key;
    ++per_instance[who];
  }
  EXPECT_EQ(per_instance.size(), 2u);
  EXPECT_GT(per_instance["i-1"], 20);
  EXPECT_GT(per_instance["i-2"], 20);

  // Without the header the key is the client's IP (port not included: every connection agrees).
  auto r = Get("/d/api/who", std::string("  "));  // blank after trimming: ignored
  EXPECT_EQ(Who(r), backends[RankBackends("127.0.0.1", backends)[0]].instance_id);
  net::HttpClient fresh;
  auto again = fresh.Send({.method = "GET",
                           .url = fmt::format("http://127.0.0.1:{}/d/api/", gateway_->port()),
                           .headers = {},
                           .body = {}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Who(*again), backends[RankBackends("127.0.0.1", backends)[0]].instance_id);
  // A key over 256 bytes is refused, one of 256 is used.
  EXPECT_EQ(Reason(Get("/d/api/who", std::string(257, 'k'))), "gateway.bad_client_key");
  EXPECT_EQ(Get("/d/api/who", std::string(256, 'k')).status, 200);
}

TEST_F(GatewayTest, ScaleOutMovesOnlyTheKeysWhoseTopRankIsTheNewInstance) {
  std::vector<Backend> backends = {StartInstance("i-1", kGood), StartInstance("i-2", kGood)};
  Route(backends);
  std::map<std::string, std::string> before;
  for (int k = 0; k < 100; ++k) {
    const std::string key = fmt::format("user-{}", k);
    before[key] = Who(Get("/d/api/", key));
  }
  backends.push_back(StartInstance("i-3", kGood));
  Route(backends);
  int moved = 0;
  for (const auto& [key, old] : before) {
    const std::string now = Who(Get("/d/api/", key));
    if (backends[RankBackends(key, backends)[0]].instance_id == "i-3") {
      EXPECT_EQ(now, "i-3") << key;
      ++moved;
    } else {
      EXPECT_EQ(now, old) << key << " moved without reason";
    }
  }
  EXPECT_GT(moved, 10);
  EXPECT_LT(moved, 60);

  // Scale-in: only i-3's keys move, back to where they were.
  backends.pop_back();
  Route(backends);
  for (const auto& [key, old] : before) EXPECT_EQ(Who(Get("/d/api/", key)), old) << key;
}

TEST_F(GatewayTest, InstanceWithAnotherBuildHashIsRefusedAndQuarantined) {
  const Backend good = StartInstance("i-1", kGood);
  const Backend bad = StartInstance("i-bad", kOther);  // a valid CDS certificate, other build
  const std::vector<Backend> backends = {good, bad};
  Route(backends);

  std::vector<std::string> bad_keys;
  for (int k = 0; bad_keys.size() < 5 && k < 1000; ++k) {
    const std::string key = fmt::format("key-{}", k);
    if (RankBackends(key, backends)[0] == 1) bad_keys.push_back(key);
  }
  ASSERT_EQ(bad_keys.size(), 5u);

  const net::HttpServer& bad_server = *instances_["i-bad"];
  const std::uint64_t before = bad_server.stats().accepted_connections;
  auto r = Get("/d/api/", bad_keys[0]);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Who(r), "i-1");  // refused in the handshake, then the next-ranked instance
  EXPECT_EQ(Body(r)["target"], "/");
  const std::uint64_t after_first = bad_server.stats().accepted_connections;
  EXPECT_GT(after_first, before);  // the gateway did try it

  // Quarantined: its keys go to i-1 without touching it.
  for (const auto& key : bad_keys) EXPECT_EQ(Who(Get("/d/api/", key)), "i-1");
  EXPECT_EQ(bad_server.stats().accepted_connections, after_first);

  // After the quarantine (injected clock) it is tried again, and refused again.
  clock_.Advance(6s);
  EXPECT_EQ(Who(Get("/d/api/", bad_keys[1])), "i-1");
  EXPECT_GT(bad_server.stats().accepted_connections, after_first);

  // Once the route allows its build, it serves its keys.
  Route(backends, {kGood, kOther});
  EXPECT_EQ(Who(Get("/d/api/", bad_keys[2])), "i-bad");

  const Json metrics = gateway_->Metrics();
  EXPECT_EQ(metrics["api"]["instances"]["i-bad"], 1);
  EXPECT_EQ(metrics["api"]["errors"], 0);
}

TEST_F(GatewayTest, NoBackendsUnreachableBackendsAndRemovedRoutes) {
  Route({});
  auto r = Get("/d/api/");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Reason(r), "gateway.no_instances");

  // Nothing listens on this port, and it is held so that nothing else can start listening there.
  const lunal::testing::ReservedPort nobody;
  const std::uint16_t dead_port = nobody.port();
  Route({{.instance_id = "gone", .address = fmt::format("127.0.0.1:{}", dead_port)}});
  r = Get("/d/api/");
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(Reason(r), "gateway.upstream_failed");
  r = Get("/d/api/");  // quarantined now
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Reason(r), "gateway.no_instances");

  // A dead instance among live ones: its clients fail over.
  const Backend live = StartInstance("i-1", kGood);
  const std::vector<Backend> both = {
      live, {.instance_id = "gone", .address = fmt::format("127.0.0.1:{}", dead_port)}};
  Route(both);
  for (int k = 0; k < 20; ++k) EXPECT_EQ(Who(Get("/d/api/", fmt::format("c{}", k))), "i-1");

  // An invalid route answers 503 rather than keeping the old backends.
  Route(both, {"not-a-hash"});
  r = Get("/d/api/");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Reason(r), "gateway.bad_route");
  EXPECT_FALSE(ValidateRoute({.tenant = "acme",
                              .deployment = "api",
                              .build_hashes = {kGood},
                              .allow_simulated = false,
                              .backends = {live, live}})
                   .ok());
  EXPECT_TRUE(ValidateRoute({.tenant = "acme",
                             .deployment = "api",
                             .build_hashes = {kGood},
                             .allow_simulated = false,
                             .backends = both})
                  .ok());

  gateway_->RemoveRoute("API");
  EXPECT_EQ(Reason(Get("/d/api/")), "gateway.no_such_deployment");
}

// Sends `raw` on a fresh TCP connection and returns everything the server sent back until it
// closed the connection.
std::string RawExchange(std::uint16_t port, const std::string& raw) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::send(fd, raw.data(), raw.size(), 0), static_cast<ssize_t>(raw.size()));
  std::string out;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
    out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST_F(GatewayTest, HopByHopHeadersAreRemovedBothWays) {
  Route({StartInstance("i-1", kGood)});
  const std::string response = RawExchange(gateway_->port(),
                                           "GET /d/api/h HTTP/1.1\r\n"
                                           "Host: 127.0.0.1\r\n"
                                           "Connection: close, X-Hop\r\n"
                                           "X-Hop: secret\r\n"
                                           "Keep-Alive: timeout=5\r\n"
                                           "TE: trailers\r\n"
                                           "Trailer: X-Sum\r\n"
                                           "Proxy-Authorization: Basic eDp5\r\n"
                                           "Upgrade: websocket\r\n"
                                           "X-Forwarded-For: 203.0.113.9\r\n"
                                           "X-Forwarded-Proto: https\r\n"
                                           "X-End-To-End: kept\r\n"
                                           "\r\n");
  ASSERT_NE(response.find("HTTP/1.1 200"), std::string::npos) << response;
  const std::size_t open = response.find('{');
  ASSERT_NE(open, std::string::npos) << response;
  auto body = ParseJson(response.substr(open, response.rfind('}') - open + 1));
  ASSERT_TRUE(body.ok()) << response;
  const Json& seen = (*body)["headers"];
  for (const char* gone :
       {"x-hop", "keep-alive", "te", "trailer", "proxy-authorization", "upgrade"}) {
    EXPECT_FALSE(seen.contains(gone)) << gone << " reached the instance: " << seen.dump();
  }
  EXPECT_EQ(seen["x-end-to-end"], "kept");
  EXPECT_EQ(seen["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
  EXPECT_EQ(seen["x-forwarded-proto"], "http");  // ours, not the client's claim
  EXPECT_EQ(seen["x-forwarded-host"], "127.0.0.1");

  // The response side: the instance's hop-by-hop fields and its X-Lunal-Instance are dropped.
  auto r = Get("/d/api/h", "k");
  ASSERT_EQ(r.status, 200);
  EXPECT_FALSE(r.Header("Keep-Alive").has_value());
  EXPECT_FALSE(r.Header("Proxy-Authenticate").has_value());
  EXPECT_FALSE(r.Header("Upgrade").has_value());
  EXPECT_EQ(r.Header("X-App").value_or(""), "kept");
  int instance_headers = 0;
  for (const auto& [name, value] : r.headers) {
    if (net::EqualsIgnoreCase(name, "X-Lunal-Instance")) {
      ++instance_headers;
      EXPECT_EQ(value, "i-1");
    }
  }
  EXPECT_EQ(instance_headers, 1);
}

TEST_F(GatewayTest, MetricsCountRequestsErrorsLatencyAndInstances) {
  const std::vector<Backend> backends = {StartInstance("i-1", kGood), StartInstance("i-2", kGood)};
  Route(backends);
  std::map<std::string, int> expected;
  for (int k = 0; k < 30; ++k) ++expected[Who(Get("/d/api/", fmt::format("m{}", k)))];
  auto failed = Get("/d/api/fail", "m0");  // the instance's own 503: final, counted as an error
  EXPECT_EQ(failed.status, 503);
  ++expected[Who(failed)];
  EXPECT_EQ(Get("/d/nope/").status, 404);  // no deployment: not counted anywhere

  const Json m = gateway_->Metrics();
  ASSERT_TRUE(m.contains("api")) << m.dump();
  EXPECT_EQ(m.size(), 1u) << m.dump();
  EXPECT_EQ(m["api"]["requests"], 31);
  EXPECT_EQ(m["api"]["errors"], 1);
  EXPECT_EQ(m["api"]["instances"]["i-1"], expected["i-1"]);
  EXPECT_EQ(m["api"]["instances"]["i-2"], expected["i-2"]);
  const double p50 = m["api"]["latency_ms"]["p50"];
  const double p95 = m["api"]["latency_ms"]["p95"];
  const double p99 = m["api"]["latency_ms"]["p99"];
  EXPECT_GT(p50, 0.0);
  EXPECT_LE(p50, p95);
  EXPECT_LE(p95, p99);
  EXPECT_LT(p99, 10'000.0);

  // The same document over HTTP, answered by the gateway whatever the Host.
  for (std::optional<std::string> host :
       {std::optional<std::string>(), std::optional<std::string>("api.localhost")}) {
    auto r = Get("/.lunal/gateway/metrics", std::nullopt, host);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_FALSE(r.Header("X-Lunal-Instance").has_value());
    EXPECT_EQ(Body(r)["api"]["requests"], 31);
    EXPECT_EQ(Body(r)["api"]["instances"], m["api"]["instances"]);
  }
}

TEST_F(GatewayTest, ConcurrentClientsAndRouteUpdatesStaySticky) {
  std::vector<Backend> backends = {StartInstance("i-1", kGood), StartInstance("i-2", kGood)};
  Route(backends);
  std::atomic<int> ok{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      net::HttpClient client;
      const std::string key = fmt::format("thread-{}", t);
      const std::string expected = backends[RankBackends(key, backends)[0]].instance_id;
      for (int i = 0; i < 50; ++i) {
        auto r =
            client.Send({.method = "POST",
                         .url = fmt::format("http://127.0.0.1:{}/d/api/echo", gateway_->port()),
                         .headers = {{"X-Lunal-Client-Key", key}},
                         .body = fmt::format("body {} {}", t, i)});
        if (!r.ok() || r->status != 200) continue;
        ++ok;
        auto body = ParseJson(r->body);
        if (!body.ok() || (*body)["instance"] != expected ||
            (*body)["body"] != fmt::format("body {} {}", t, i)) {
          ++wrong;
        }
      }
    });
  }
  // Route updates that change nothing for these keys, while requests flow.
  for (int i = 0; i < 20; ++i) {
    Route(backends);
    std::this_thread::sleep_for(2ms);
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(gateway_->Metrics()["api"]["requests"], 200);
}

TEST_F(GatewayTest, ClientsOfRemovedInstancesAreClosed) {
  // One I/O thread, so the next request runs where the old connections live.
  auto gw = Gateway::Start({.threads = 1,
                            .credentials = gateway_credentials_,
                            .mesh_ca_pem = ca_pem_,
                            .clock = &clock_});
  ASSERT_TRUE(gw.ok()) << gw.error();
  const std::vector<Backend> backends = {StartInstance("i-1", kGood), StartInstance("i-2", kGood)};
  auto route = [&](std::vector<Backend> b) {
    (*gw)->SetRoute({.tenant = "acme",
                     .deployment = "api",
                     .build_hashes = {kGood},
                     .allow_simulated = true,
                     .backends = std::move(b)});
  };
  route(backends);
  net::HttpClient client;
  auto get = [&](const std::string& key) {
    auto r = client.Send({.method = "GET",
                          .url = fmt::format("http://127.0.0.1:{}/d/api/", (*gw)->port()),
                          .headers = {{"X-Lunal-Client-Key", key}},
                          .body = {}});
    EXPECT_TRUE(r.ok() && r->status == 200);
    return r.ok() ? Who(*r) : std::string();
  };
  std::set<std::string> seen;
  for (int k = 0; k < 20; ++k) seen.insert(get(fmt::format("c{}", k)));
  ASSERT_EQ(seen.size(), 2u);
  const net::HttpServer& second = *instances_["i-2"];
  EXPECT_EQ(second.stats().active_connections, 1u);  // one kept-alive connection, reused

  route({backends[0]});
  EXPECT_EQ(get("after"), "i-1");
  for (int i = 0; i < 200 && second.stats().active_connections != 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(second.stats().active_connections, 0u);
  (*gw)->Stop(100ms);
}

TEST_F(GatewayTest, StartRefusesMissingCredentials) {
  auto gw = Gateway::Start({.mesh_ca_pem = ca_pem_});
  ASSERT_FALSE(gw.ok());
  EXPECT_EQ(gw.error().reason(), "gateway.bad_options");
  gw = Gateway::Start({.credentials = gateway_credentials_, .mesh_ca_pem = "not a pem"});
  ASSERT_FALSE(gw.ok());
  EXPECT_EQ(gw.error().reason(), "mesh.trust.invalid");
}

}  // namespace
}  // namespace lunal::gateway
