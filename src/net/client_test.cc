// HttpClient against HttpServer: JSON convenience and error classification.
#include "lunal/net/client.h"

#include <gtest/gtest.h>

#include <string>

#include "lunal/net/errors.h"
#include "lunal/net/server.h"
#include "test_support.h"

namespace lunal::net {
namespace {

using std::chrono::milliseconds;
using testing::FastClient;
using testing::LocalUrl;
using testing::StartServer;
using testing::TestRouter;

TEST(HttpClientTest, SendJsonMapsErrorBodiesBackToStatus) {
  auto server = StartServer({}, TestRouter());
  HttpClient client(FastClient());
  Result<nlohmann::json> denied = client.SendJson("GET", LocalUrl(*server, "/denied"));
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().code(), Code::kPolicyViolation);
  EXPECT_EQ(denied.error().reason(), "cds.policy.debug_enabled");
  EXPECT_EQ(denied.error().message(), "debug TD");

  Result<nlohmann::json> missing = client.SendJson("GET", LocalUrl(*server, "/nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_EQ(missing.error().reason(), "http.not_found");

  Result<nlohmann::json> not_json = client.SendJson("GET", LocalUrl(*server, "/big"));
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().reason(), "net.bad_json_response");

  Result<nlohmann::json> echoed =
      client.SendJson("POST", LocalUrl(*server, "/echo"), {{"a", 1}, {"b", "two"}});
  ASSERT_TRUE(echoed.ok()) << echoed.error().ToString();
  EXPECT_EQ((*echoed)["b"], "two");
}

TEST(HttpClientTest, ErrorsAreClassified) {
  auto server = StartServer({}, TestRouter());
  std::uint16_t port = server->port();

  ClientOptions impatient = FastClient();
  impatient.request_timeout = milliseconds(100);
  Result<HttpResponse> slow = HttpClient(impatient).Send({.url = LocalUrl(*server, "/slow")});
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(slow.error().reason(), "net.timeout");

  ClientOptions small = FastClient();
  small.max_response_bytes = 100;
  Result<HttpResponse> big = HttpClient(small).Send({.url = LocalUrl(*server, "/big")});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().reason(), "net.response_too_large");

  HttpClient client(FastClient());
  EXPECT_EQ(client.Send({.url = "ftp://127.0.0.1/"}).error().reason(), "net.bad_url");
  EXPECT_EQ(client.Send({.method = "G T", .url = LocalUrl(*server, "/")}).error().reason(),
            "net.bad_request");
  EXPECT_EQ(client.Send({.url = LocalUrl(*server, "/"), .headers = {{"X", "a\r\nB: c"}}})
                .error()
                .reason(),
            "net.bad_request");

  server->Stop(milliseconds(0));
  Result<HttpResponse> refused = client.Send({.url = LocalUrl(*server, "/v1/things/1")});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kUnavailable);
  EXPECT_EQ(refused.error().reason(), "net.connect_failed");
  EXPECT_NE(refused.error().message().find(std::to_string(port)), std::string::npos);
}

}  // namespace
}  // namespace lunal::net
