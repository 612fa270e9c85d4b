// The gateway's admin API (admin.h) against a real gateway with real mesh certificates: an
// in-process CDS (src/cds/test_support.h) issues the gateway's identity (lunal/gateway) and an
// instance's (acme/api); the instance is a net::HttpServer behind mesh::MeshServerTls.
#include "lunal/gateway/admin.h"

#include <map>

#include "gateway_test_support.h"
#include "lunal/mesh/tls.h"
#include "lunal/net/client.h"
#include "lunal/net/errors.h"
#include "lunal/net/server.h"

namespace lunal::gateway {
namespace {

using cds::testing::BuildHash;
using cds::testing::Entry;
using cds::testing::SignManifest;
using namespace std::chrono_literals;

constexpr std::string_view kToken = "admin-secret-token";

class GatewayAdminTest : public testing::MeshCdsFixture {
 protected:
  void SetUp() override {
    MeshCdsFixture::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(
        cds_->PutManifest(SignManifest(*operator_key_, 2,
                                       Json::array({Entry("acme", "api", {kGood}),
                                                    Entry("lunal", "gateway", {BuildHash('f')})})))
            .ok());
    auto gw_creds = Issue(BuildHash('f'), "lunal", "gateway", "gateway-0");
    ASSERT_NE(gw_creds, nullptr);
    auto gw = Gateway::Start(
        {.threads = 2, .credentials = gw_creds, .mesh_ca_pem = ca_pem_, .clock = &clock_});
    ASSERT_TRUE(gw.ok()) << gw.error();
    gateway_ = std::move(*gw);
    net::Router router;
    ASSERT_TRUE(AddGatewayAdminRoutes(router, *gateway_, std::string(kToken)).ok());
    admin_ = std::make_unique<net::HttpServer>(net::ServerOptions{.threads = 2}, std::move(router));
    ASSERT_TRUE(admin_->Start().ok());
  }

  void TearDown() override {
    if (admin_) admin_->Stop(100ms);
    if (gateway_) gateway_->Stop(100ms);
    if (instance_) instance_->Stop(100ms);
  }

  // Instance i-1 of acme/api, admitting only the gateway, answering with its id and the target.
  std::string StartInstance() {
    auto creds = Issue(kGood, "acme", "api", "i-1");
    auto trust = mesh::MeshTrust::FromPem(ca_pem_, clock_);
    EXPECT_TRUE(trust.ok());
    auto tls = mesh::MeshServerTls(
        creds, *trust,
        {.tenant = "lunal", .deployment = "gateway", .any_build = true, .allow_simulated = true});
    EXPECT_TRUE(tls.ok()) << tls.error();
    net::Router router;
    router.SetFallback([](net::HttpRequest& req) {
      return net::HttpResponse::Json(200, {{"instance", "i-1"}, {"target", req.target}});
    });
    net::ServerOptions options;
    options.tls = std::move(*tls);
    instance_ = std::make_unique<net::HttpServer>(std::move(options), std::move(router));
    EXPECT_TRUE(instance_->Start().ok());
    return fmt::format("127.0.0.1:{}", instance_->port());
  }

  Json RouteBody(const std::string& address) {
    return {{"tenant", "acme"},
            {"build_hashes", {kGood}},
            {"allow_simulated", true},
            {"backends", {{{"instance_id", "i-1"}, {"address", address}}}}};
  }

  net::HttpResponse Admin(const std::string& method, const std::string& path,
                          std::optional<std::string> authorization, const std::string& body = "") {
    net::HttpClientRequest request{
        .method = method,
        .url = fmt::format("http://127.0.0.1:{}{}", admin_->port(), path),
        .headers = {},
        .body = body};
    if (authorization) request.headers.emplace_back("Authorization", *authorization);
    auto r = client_.Send(request);
    EXPECT_TRUE(r.ok()) << r.error();
    return r.ok() ? *r : net::HttpResponse{.status = 0, .headers = {}, .body = {}};
  }
  net::HttpResponse Put(const std::string& deployment, const Json& body) {
    return Admin("PUT", "/v1/gateway/routes/" + deployment, "Bearer " + std::string(kToken),
                 body.dump());
  }
  net::HttpResponse Public(const std::string& target) {
    auto r = client_.Send({.method = "GET",
                           .url = fmt::format("http://127.0.0.1:{}{}", gateway_->port(), target),
                           .headers = {},
                           .body = {}});
    EXPECT_TRUE(r.ok()) << r.error();
    return r.ok() ? *r : net::HttpResponse{.status = 0, .headers = {}, .body = {}};
  }
  static std::string Reason(const net::HttpResponse& r) {
    return net::StatusFromErrorBody(r.status, r.body).reason();
  }
  static Json Body(const net::HttpResponse& r) {
    auto j = ParseJson(r.body);
    return j.ok() ? *j : Json();
  }

  inline static const std::string kGood = BuildHash('a');
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<net::HttpServer> admin_;
  std::unique_ptr<net::HttpServer> instance_;
  net::HttpClient client_;
};

TEST_F(GatewayAdminTest, RefusesMissingOrWrongTokens) {
  const std::string body = RouteBody("127.0.0.1:1").dump();
  const std::vector<std::optional<std::string>> refused = {
      std::nullopt,
      "Bearer ",
      "Bearer admin-secret-toke",
      "Bearer admin-secret-tokenX",  // (trailing spaces are field OWS, RFC 9110 §5.5)
      "Basic admin-secret-token",
      std::string(kToken)};
  for (const auto& authorization : refused) {
    for (const auto& [method, path] :
         std::vector<std::pair<std::string, std::string>>{{"PUT", "/v1/gateway/routes/api"},
                                                          {"DELETE", "/v1/gateway/routes/api"},
                                                          {"GET", "/v1/gateway/routes"},
                                                          {"GET", "/v1/gateway/metrics"}}) {
      auto r = Admin(method, path, authorization, method == "PUT" ? body : "");
      EXPECT_EQ(r.status, 401) << method << " " << path << " " << authorization.value_or("-");
      EXPECT_EQ(Reason(r), "gateway.admin.unauthenticated");
    }
  }
  EXPECT_TRUE(gateway_->Routes().empty());  // the refused PUTs installed nothing
  // The scheme is case-insensitive (RFC 9110 §11.1).
  EXPECT_EQ(Admin("GET", "/v1/gateway/routes", "bearer " + std::string(kToken)).status, 200);
  net::Router router;
  EXPECT_EQ(AddGatewayAdminRoutes(router, *gateway_, "").reason(), "gateway.admin.bad_options");
}

TEST_F(GatewayAdminTest, StrictBody) {
  auto bad = [&](const Json& body) {
    auto r = Admin("PUT", "/v1/gateway/routes/api", "Bearer " + std::string(kToken),
                   body.is_string() ? body.get<std::string>() : body.dump());
    EXPECT_EQ(r.status, 400) << body.dump() << " " << r.body;
    EXPECT_EQ(Reason(r), "gateway.admin.bad_field") << body.dump();
    return net::StatusFromErrorBody(r.status, r.body).message();
  };
  const Json good = RouteBody("127.0.0.1:1");
  bad(Json("not json"));
  bad(Json::array());
  Json j = good;
  j["tenants"] = "acme";
  EXPECT_NE(bad(j).find("tenants: unknown member"), std::string::npos);
  j = good;
  j["backends"][0]["port"] = 1;
  EXPECT_NE(bad(j).find("backends[0].port: unknown member"), std::string::npos);
  j = good;
  j.erase("tenant");
  EXPECT_NE(bad(j).find("tenant: required"), std::string::npos);
  j = good;
  j["allow_simulated"] = "yes";
  bad(j);
  j = good;
  j["build_hashes"] = {1};
  bad(j);
  j = good;
  j["backends"] = Json::object();
  bad(j);
  j = good;
  j["deployment"] = "other";  // the path names the route
  bad(j);
  j = good;
  j["build_hashes"] = {"md5:abc"};  // ValidateRoute refuses it
  bad(j);
  j = good;
  j["backends"][0]["instance_id"] = "../x";
  bad(j);
  EXPECT_TRUE(gateway_->Routes().empty());

  // A good body (its deployment member equal to the path's) is echoed as installed.
  j = good;
  j["deployment"] = "api";
  auto r = Put("api", j);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r), j);
  ASSERT_EQ(gateway_->Routes().size(), 1u);
  EXPECT_EQ(gateway_->Routes()[0].backends[0].address, "127.0.0.1:1");
}

TEST_F(GatewayAdminTest, RoutePutThroughTheApiIsServedThenDeleted) {
  const std::string address = StartInstance();
  EXPECT_EQ(Reason(Public("/d/api/x")), "gateway.no_such_deployment");
  auto r = Put("api", RouteBody(address));
  ASSERT_EQ(r.status, 200) << r.body;

  r = Public("/d/api/hello?q=1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["instance"], "i-1");
  EXPECT_EQ(Body(r)["target"], "/hello?q=1");

  r = Admin("GET", "/v1/gateway/routes", "Bearer " + std::string(kToken));
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(Body(r)["routes"].size(), 1u);
  EXPECT_EQ(Body(r)["routes"][0]["deployment"], "api");
  EXPECT_EQ(Body(r)["routes"][0]["backends"][0]["address"], address);
  r = Admin("GET", "/v1/gateway/metrics", "Bearer " + std::string(kToken));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["api"]["requests"], 1);
  EXPECT_EQ(Body(r)["api"]["instances"]["i-1"], 1);

  r = Admin("DELETE", "/v1/gateway/routes/api", "Bearer " + std::string(kToken));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["removed"], true);
  r = Public("/d/api/hello");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Reason(r), "gateway.no_such_deployment");
  r = Admin("DELETE", "/v1/gateway/routes/api", "Bearer " + std::string(kToken));
  ASSERT_EQ(r.status, 200);  // idempotent
  EXPECT_EQ(Body(r)["removed"], false);
}

TEST_F(GatewayAdminTest, AdminClientRoundTrip) {
  const std::string address = StartInstance();
  AdminClient admin({.base_url = fmt::format("http://127.0.0.1:{}/", admin_->port()),
                     .token = std::string(kToken),
                     .http = {}});
  const Route route{.tenant = "acme",
                    .deployment = "api",
                    .build_hashes = {kGood},
                    .allow_simulated = true,
                    .backends = {{.instance_id = "i-1", .address = address}}};
  ASSERT_TRUE(admin.SetRoute(route).ok());
  auto routes = admin.Routes();
  ASSERT_TRUE(routes.ok()) << routes.error();
  ASSERT_EQ(routes->size(), 1u);
  EXPECT_EQ(RouteToJson((*routes)[0]), RouteToJson(route));
  EXPECT_EQ(Body(Public("/d/api/a"))["target"], "/a");
  auto metrics = admin.Metrics();
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ((*metrics)["api"]["requests"], 1);

  // The server's refusals come back as its statuses.
  Route bad = route;
  bad.backends[0].instance_id = "../x";
  EXPECT_EQ(admin.SetRoute(bad).reason(), "gateway.admin.bad_field");
  AdminClient stranger({.base_url = fmt::format("http://127.0.0.1:{}", admin_->port()),
                        .token = "nope",
                        .http = {}});
  EXPECT_EQ(stranger.SetRoute(route).reason(), "gateway.admin.unauthenticated");
  EXPECT_EQ(stranger.RemoveRoute("api").reason(), "gateway.admin.unauthenticated");

  ASSERT_TRUE(admin.RemoveRoute("api").ok());
  EXPECT_EQ(Reason(Public("/d/api/a")), "gateway.no_such_deployment");
  EXPECT_TRUE(admin.Routes()->empty());
}

}  // namespace
}  // namespace lunal::gateway
