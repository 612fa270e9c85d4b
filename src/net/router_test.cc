// Routing rules without sockets: Router::Dispatch on hand-made requests.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "lunal/net/server.h"

namespace lunal::net {
namespace {

HttpResponse Echo(HttpRequest& request) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& [name, value] : request.path_params) params[name] = value;
  nlohmann::json query = nlohmann::json::object();
  for (const auto& [name, value] : request.query) query[name] = value;
  return HttpResponse::Json(
      200,
      {{"method", request.method}, {"path", request.path}, {"params", params}, {"query", query}});
}

HttpRequest Request(std::string method, std::string target) {
  HttpRequest request;
  request.method = std::move(method);
  request.target = std::move(target);
  return request;
}

nlohmann::json Body(const HttpResponse& response) { return nlohmann::json::parse(response.body); }

class HttpRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(router_.Add("GET", "/v1/things/{id}", Echo).ok());
    ASSERT_TRUE(router_.Add("DELETE", "/v1/things/{id}", Echo).ok());
    ASSERT_TRUE(router_
                    .Add("GET", "/v1/things/new",
                         [](HttpRequest&) { return HttpResponse::Text(200, "literal"); })
                    .ok());
    ASSERT_TRUE(router_.Add("POST", "/v1/things/{id}/parts/{part}", Echo).ok());
    ASSERT_TRUE(router_.Add("GET", "/", Echo).ok());
  }

  HttpResponse Dispatch(std::string method, std::string target) {
    HttpRequest request = Request(std::move(method), std::move(target));
    return router_.Dispatch(request);
  }

  Router router_;
};

TEST_F(HttpRouterTest, MatchesParametersAndDecodesThem) {
  HttpResponse response = Dispatch("POST", "/v1/things/a%20b/parts/c%2Fd?x=1&y=two+words&x=2&flag");
  ASSERT_EQ(response.status, 200) << response.body;
  nlohmann::json body = Body(response);
  EXPECT_EQ(body["params"]["id"], "a b");
  EXPECT_EQ(body["params"]["part"], "c/d");  // an escaped '/' stays inside its segment
  EXPECT_EQ(body["path"], "/v1/things/a b/parts/c/d");
  EXPECT_EQ(body["query"]["x"], "1");  // first occurrence wins
  EXPECT_EQ(body["query"]["y"], "two words");
  EXPECT_EQ(body["query"]["flag"], "");
  EXPECT_EQ(Body(Dispatch("GET", "/"))["path"], "/");
}

TEST_F(HttpRouterTest, LiteralBeatsParameter) {
  EXPECT_EQ(Dispatch("GET", "/v1/things/new").body, "literal");
  EXPECT_EQ(Body(Dispatch("GET", "/v1/things/old"))["params"]["id"], "old");
}

TEST_F(HttpRouterTest, UnknownPathIs404) {
  for (const char* target :
       {"/v1/nothing", "/v1/things", "/v1/things/", "/v1/things/1/x", "/v1/things//parts/p"}) {
    SCOPED_TRACE(target);
    HttpResponse response = Dispatch("GET", target);
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(Body(response)["error"]["reason"], "http.not_found");
  }
}

TEST_F(HttpRouterTest, WrongMethodIs405WithAllow) {
  HttpResponse response = Dispatch("PUT", "/v1/things/7");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(Body(response)["error"]["reason"], "http.method_not_allowed");
  EXPECT_EQ(response.Header("allow"), "DELETE, GET, HEAD");
  // Methods are case-sensitive.
  EXPECT_EQ(Dispatch("get", "/v1/things/7").status, 405);
}

TEST_F(HttpRouterTest, HeadFallsBackToGet) {
  HttpResponse response = Dispatch("HEAD", "/v1/things/9");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(Body(response)["params"]["id"], "9");  // the server drops the body on the wire
}

TEST_F(HttpRouterTest, BadTargetsAre400) {
  for (const char* target :
       {"", "*", "http://h/v1/things/1", "/v1/things/%zz", "/v1/%00", "/v1/things/1?x=%4"}) {
    SCOPED_TRACE(target);
    HttpResponse response = Dispatch("GET", target);
    EXPECT_EQ(response.status, 400);
    EXPECT_EQ(Body(response)["error"]["reason"], "http.bad_target");
  }
}

TEST_F(HttpRouterTest, ThrowingHandlerBecomesGeneric500) {
  ASSERT_TRUE(router_
                  .Add("GET", "/boom",
                       [](HttpRequest&) -> HttpResponse {
                         throw std::runtime_error("secret database password is hunter2");
                       })
                  .ok());
  ASSERT_TRUE(router_.Add("GET", "/boom2", [](HttpRequest&) -> HttpResponse { throw 42; }).ok());
  Status seen;
  InternalErrorHook hook = [&seen](const HttpRequest&, const Status& status) { seen = status; };
  HttpRequest request = Request("GET", "/boom");
  HttpResponse response = router_.Dispatch(request, hook);
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body.find("hunter2"), std::string::npos);
  EXPECT_EQ(Body(response)["error"]["message"], "internal error");
  EXPECT_EQ(seen.reason(), "internal.handler_exception");
  EXPECT_NE(seen.message().find("hunter2"), std::string::npos);  // the owner can log it

  HttpRequest request2 = Request("GET", "/boom2");
  EXPECT_EQ(router_.Dispatch(request2).status, 500);
}

TEST_F(HttpRouterTest, FallbackAnswersUnroutedPathsButNot405s) {
  router_.SetFallback([](HttpRequest& request) {
    return HttpResponse::Text(200, "fallback " + request.method + " " + request.path);
  });
  HttpResponse unrouted = Dispatch("PATCH", "/anything/at%20all?q=1");
  EXPECT_EQ(unrouted.status, 200);
  EXPECT_EQ(unrouted.body, "fallback PATCH /anything/at all");
  // A path some route matches under another method stays the router's 405.
  EXPECT_EQ(Dispatch("PUT", "/v1/things/7").status, 405);
  // A bad target never reaches the fallback.
  EXPECT_EQ(Dispatch("GET", "/x%zz").status, 400);
  EXPECT_EQ(Dispatch("GET", "/v1/things/new").body, "literal");
}

TEST(HttpRouterAddTest, RejectsBadPatternsAndConflicts) {
  Router router;
  auto handler = [](HttpRequest&) { return HttpResponse::Text(200, ""); };
  EXPECT_EQ(router.Add("GET", "relative", handler).reason(), "net.bad_route");
  EXPECT_EQ(router.Add("GET", "", handler).reason(), "net.bad_route");
  EXPECT_EQ(router.Add("GET", "/a/{}", handler).reason(), "net.bad_route");
  EXPECT_EQ(router.Add("GET", "/a/{x}/{x}", handler).reason(), "net.bad_route");
  EXPECT_EQ(router.Add("GET", "/a/b{x}", handler).reason(), "net.bad_route");
  EXPECT_EQ(router.Add("GET", "/a?x=1", handler).reason(), "net.bad_route");
  EXPECT_EQ(router.Add("G ET", "/a", handler).reason(), "net.bad_route");
  EXPECT_EQ(router.Add("GET", "/a", nullptr).reason(), "net.bad_route");
  ASSERT_TRUE(router.Add("GET", "/a/{x}", handler).ok());
  EXPECT_EQ(router.Add("GET", "/a/{y}", handler).reason(), "net.route_conflict");
  EXPECT_TRUE(router.Add("POST", "/a/{y}", handler).ok());
  EXPECT_TRUE(router.Add("GET", "/a/b", handler).ok());
}

TEST(HttpRequestTest, HeaderLookupIsCaseInsensitive) {
  HttpRequest request;
  request.headers = {{"Content-Type", "application/json"}, {"X-Twice", "1"}, {"x-twice", "2"}};
  EXPECT_EQ(request.Header("content-type"), "application/json");
  EXPECT_EQ(request.Header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(request.Header("X-TWICE"), "1");
  EXPECT_FALSE(request.Header("Content-Length").has_value());
}

}  // namespace
}  // namespace lunal::net
