// Interop with the real curl CLI: another HTTP implementation's view of our server.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "lunal/net/server.h"
#include "test_support.h"

namespace lunal::net {
namespace {

using std::chrono::milliseconds;
using testing::LocalUrl;
using testing::StartServer;

constexpr const char* kCurl = "/usr/bin/curl";

struct CurlResult {
  int exit_code = -1;
  int http_status = 0;
  std::string body;
};

// Runs curl with `args` (already shell-quoted where needed); the body goes to stdout, followed by
// a final line with the HTTP status.
CurlResult RunCurl(const std::string& args, const std::string& stdin_file = "") {
  std::string command = std::string(kCurl) + " -sS --max-time 10 -w '\\n%{http_code}' " + args;
  if (!stdin_file.empty()) command += " < '" + stdin_file + "'";
  CurlResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::string output;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::size_t newline = output.rfind('\n');
  if (newline != std::string::npos) {
    result.body = output.substr(0, newline);
    result.http_status = std::atoi(output.c_str() + newline + 1);
  }
  return result;
}

class HttpCurlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kCurl, X_OK) != 0) GTEST_SKIP() << "no " << kCurl;
    dir_ = std::filesystem::temp_directory_path() /
           ("lunal-net-curl-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string WriteFile(const std::string& name, const std::string& content) {
    std::filesystem::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  static Router JsonRouter() {
    Router router;
    EXPECT_TRUE(router
                    .Add("GET", "/v1/things/{id}",
                         [](HttpRequest& req) {
                           return HttpResponse::Json(
                               200, {{"id", req.PathParam("id")},
                                     {"peer_der_size", req.peer_certificate_der.size()}});
                         })
                    .ok());
    EXPECT_TRUE(router
                    .Add("POST", "/v1/things",
                         [](HttpRequest& req) {
                           nlohmann::json in = nlohmann::json::parse(req.body, nullptr, false);
                           if (in.is_discarded() ||
                               req.Header("Content-Type") != "application/json") {
                             return HttpResponse::Json(400, {{"error", "want JSON"}});
                           }
                           return HttpResponse::Json(201, {{"created", in["name"]}});
                         })
                    .ok());
    return router;
  }

  std::filesystem::path dir_;
};

TEST_F(HttpCurlTest, GetAndPostJson) {
  auto server = StartServer({}, JsonRouter());
  CurlResult get = RunCurl("'" + LocalUrl(*server, "/v1/things/x%2Dy") + "'");
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_EQ(get.http_status, 200);
  EXPECT_EQ(nlohmann::json::parse(get.body, nullptr, false)["id"], "x-y") << get.body;

  CurlResult post = RunCurl("-H 'Content-Type: application/json' -d '{\"name\":\"quote\"}' '" +
                            LocalUrl(*server, "/v1/things") + "'");
  EXPECT_EQ(post.exit_code, 0);
  EXPECT_EQ(post.http_status, 201);
  EXPECT_EQ(nlohmann::json::parse(post.body, nullptr, false)["created"], "quote") << post.body;

  CurlResult missing = RunCurl("'" + LocalUrl(*server, "/v1/nothing") + "'");
  EXPECT_EQ(missing.http_status, 404);
  EXPECT_EQ(nlohmann::json::parse(missing.body, nullptr, false)["error"]["reason"],
            "http.not_found");
}

TEST_F(HttpCurlTest, OversizeBodyGets413) {
  ServerOptions options;
  options.max_body_bytes = 64 << 10;
  auto server = StartServer(options, JsonRouter());
  std::string big = WriteFile("big.json", std::string(1 << 20, ' '));
  for (const char* mode : {"", "-H 'Transfer-Encoding: chunked' "}) {
    SCOPED_TRACE(mode);
    CurlResult result =
        RunCurl(std::string(mode) + "-H 'Content-Type: application/json' --data-binary @- '" +
                    LocalUrl(*server, "/v1/things") + "'",
                big);
    EXPECT_EQ(result.http_status, 413) << result.body;
    EXPECT_EQ(nlohmann::json::parse(result.body, nullptr, false)["error"]["reason"],
              "http.body_too_large")
        << result.body;
  }
}

TEST_F(HttpCurlTest, MutualTlsWithCurl) {
  testing::TestCert ca = testing::MakeCa("Curl Test CA");
  testing::TestCert server_cert = testing::MakeLeaf("localhost", ca);
  testing::TestCert client_cert = testing::MakeLeaf("curl-client", ca);
  ServerOptions options;
  options.tls = TlsServerOptions{server_cert.cert_pem, server_cert.key_pem, ca.cert_pem, true};
  auto server = StartServer(options, JsonRouter());
  std::string ca_file = WriteFile("ca.pem", ca.cert_pem);
  std::string cert_file = WriteFile("client.pem", client_cert.cert_pem);
  std::string key_file = WriteFile("client.key", client_cert.key_pem);
  std::string url = LocalUrl(*server, "/v1/things/t", /*tls=*/true);

  CurlResult ok = RunCurl("--cacert '" + ca_file + "' --cert '" + cert_file + "' --key '" +
                          key_file + "' '" + url + "'");
  EXPECT_EQ(ok.exit_code, 0) << ok.body;
  EXPECT_EQ(ok.http_status, 200);
  EXPECT_EQ(nlohmann::json::parse(ok.body, nullptr, false)["peer_der_size"],
            client_cert.cert_der.size());

  CurlResult anonymous = RunCurl("--cacert '" + ca_file + "' '" + url + "' 2>/dev/null");
  EXPECT_NE(anonymous.exit_code, 0);
  EXPECT_NE(anonymous.http_status, 200);

  CurlResult old = RunCurl("--cacert '" + ca_file + "' --cert '" + cert_file + "' --key '" +
                           key_file + "' --tlsv1.1 --tls-max 1.1 '" + url + "' 2>/dev/null");
  EXPECT_NE(old.exit_code, 0);
}

}  // namespace
}  // namespace lunal::net
