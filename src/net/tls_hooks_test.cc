// The TLS hooks of tls_credentials.h: replaceable credentials, caller-supplied peer verification
// on both sides, the handshake-failure hook and TLS 1.3 only.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "lunal/net/client.h"
#include "lunal/net/server.h"
#include "lunal/net/tls_credentials.h"
#include "test_support.h"

namespace lunal::net {
namespace {

using namespace std::chrono_literals;
using testing::MakeCa;
using testing::MakeLeaf;
using testing::TestCert;

Router PeerRouter() {
  Router router;
  EXPECT_TRUE(router
                  .Add("GET", "/peer",
                       [](HttpRequest& req) {
                         HttpResponse response =
                             HttpResponse::Text(200, std::string(req.peer_certificate_der.begin(),
                                                                 req.peer_certificate_der.end()));
                         response.AddHeader("Connection", "close");
                         return response;
                       })
                  .ok());
  return router;
}

// Accepts peers whose leaf equals `allowed` (DER); records what it saw.
struct LeafVerifier {
  Bytes allowed{};
  std::mutex mu{};
  int calls = 0;
  PeerVerifier Hook() {
    return [this](std::span<const Bytes> chain) -> Status {
      std::lock_guard<std::mutex> lock(mu);
      ++calls;
      if (chain.empty() || chain.front() != allowed) {
        return PolicyViolation("test.peer.refused", "not the allowed leaf");
      }
      return Status::Ok();
    };
  }
};

std::string Url(const HttpServer& server) {
  return "https://127.0.0.1:" + std::to_string(server.port()) + "/peer";
}

TEST(TlsHooks, CredentialsReplaceAffectsNewHandshakesOnly) {
  TestCert ca = MakeCa("Hooks CA");
  TestCert first = MakeLeaf("first", ca);
  TestCert second = MakeLeaf("second", ca);
  Result<std::shared_ptr<TlsCredentials>> credentials =
      TlsCredentials::Create(first.cert_pem, first.key_pem);
  ASSERT_TRUE(credentials) << credentials.error();
  ServerOptions options;
  options.tls = TlsServerOptions{};
  options.tls->credentials = *credentials;
  auto server = testing::StartServer(std::move(options), PeerRouter());

  ClientOptions client_options = testing::FastClient();
  client_options.tls.ca_pem = ca.cert_pem;
  HttpClient client(client_options);
  Result<HttpResponse> one = client.Send({.url = Url(*server)});
  ASSERT_TRUE(one) << one.error();
  EXPECT_EQ(one->peer_certificate_der, first.cert_der);

  // A mismatched pair is refused and the current one stays.
  EXPECT_EQ((*credentials)->Replace(second.cert_pem, first.key_pem).reason(), "net.tls_config");
  EXPECT_EQ((*credentials)->LeafDer(), first.cert_der);
  ASSERT_TRUE((*credentials)->Replace(second.cert_pem, second.key_pem).ok());
  Result<HttpResponse> two = client.Send({.url = Url(*server)});
  ASSERT_TRUE(two) << two.error();
  EXPECT_EQ(two->peer_certificate_der, second.cert_der);
}

TEST(TlsHooks, VerifyServerRefusalIsTheSendError) {
  TestCert ca = MakeCa("Hooks CA");
  TestCert server_cert = MakeLeaf("server", ca);
  TestCert other = MakeLeaf("other", ca);
  ServerOptions options;
  options.tls = TlsServerOptions{server_cert.cert_pem, server_cert.key_pem};
  auto server = testing::StartServer(std::move(options), PeerRouter());

  LeafVerifier refuse{.allowed = other.cert_der};
  ClientOptions client_options = testing::FastClient();
  client_options.tls.verify_server = refuse.Hook();
  Result<HttpResponse> refused = HttpClient(client_options).Send({.url = Url(*server)});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason(), "test.peer.refused");
  EXPECT_EQ(refused.error().code(), Code::kPolicyViolation);

  LeafVerifier accept{.allowed = server_cert.cert_der};
  client_options.tls.verify_server = accept.Hook();
  Result<HttpResponse> accepted = HttpClient(client_options).Send({.url = Url(*server)});
  ASSERT_TRUE(accepted) << accepted.error();
  EXPECT_EQ(accepted->peer_certificate_der, server_cert.cert_der);
  EXPECT_EQ(accept.calls, 1);
}

TEST(TlsHooks, VerifyClientAndHandshakeFailureHook) {
  TestCert ca = MakeCa("Hooks CA");
  TestCert server_cert = MakeLeaf("server", ca);
  TestCert good = MakeLeaf("good", ca);
  TestCert bad = MakeLeaf("bad", ca);
  LeafVerifier verifier{.allowed = good.cert_der};
  std::mutex mu;
  std::vector<std::string> failures;
  ServerOptions options;
  options.tls = TlsServerOptions{server_cert.cert_pem, server_cert.key_pem};
  options.tls->verify_client = verifier.Hook();
  options.tls->tls13_only = true;
  options.tls->on_handshake_failed = [&](std::string_view, const Status& why) {
    std::lock_guard<std::mutex> lock(mu);
    failures.push_back(why.reason());
  };
  auto server = testing::StartServer(std::move(options), PeerRouter());
  auto wait_failures = [&](std::size_t n) {
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (failures.size() >= n) return failures;
      }
      std::this_thread::sleep_for(10ms);
    }
    std::lock_guard<std::mutex> lock(mu);
    return failures;
  };

  ClientOptions client_options = testing::FastClient();
  client_options.tls.ca_pem = ca.cert_pem;
  client_options.tls.server_name = "localhost";
  client_options.tls.client_cert_pem = good.cert_pem;
  client_options.tls.client_key_pem = good.key_pem;
  Result<HttpResponse> ok = HttpClient(client_options).Send({.url = Url(*server)});
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(ok->body, std::string(good.cert_der.begin(), good.cert_der.end()));

  client_options.tls.client_cert_pem = bad.cert_pem;
  client_options.tls.client_key_pem = bad.key_pem;
  EXPECT_FALSE(HttpClient(client_options).Send({.url = Url(*server)}));
  EXPECT_EQ(wait_failures(1), std::vector<std::string>{"test.peer.refused"});

  client_options.tls.client_cert_pem.reset();
  client_options.tls.client_key_pem.reset();
  EXPECT_FALSE(HttpClient(client_options).Send({.url = Url(*server)}));
  std::vector<std::string> expected = {"test.peer.refused", "net.tls_no_peer_certificate"};
  EXPECT_EQ(wait_failures(2), expected);
  EXPECT_EQ(verifier.calls, 2);  // the certificate-less client never reached the hook
}

TEST(TlsHooks, ConflictingOptionsAreConfigurationErrors) {
  TestCert ca = MakeCa("Hooks CA");
  TestCert leaf = MakeLeaf("leaf", ca);
  Result<std::shared_ptr<TlsCredentials>> credentials =
      TlsCredentials::Create(leaf.cert_pem, leaf.key_pem);
  ASSERT_TRUE(credentials);
  EXPECT_EQ(TlsCredentials::Create("", leaf.key_pem).error().reason(), "net.tls_config");

  ServerOptions both;
  both.tls = TlsServerOptions{leaf.cert_pem, leaf.key_pem};
  both.tls->credentials = *credentials;
  EXPECT_EQ(HttpServer(both, Router()).Start().reason(), "net.tls_config");

  ServerOptions verify_and_ca;
  verify_and_ca.tls = TlsServerOptions{leaf.cert_pem, leaf.key_pem, ca.cert_pem};
  verify_and_ca.tls->verify_client = [](std::span<const Bytes>) { return Status::Ok(); };
  EXPECT_EQ(HttpServer(verify_and_ca, Router()).Start().reason(), "net.tls_config");

  ServerOptions plain;
  plain.tls = TlsServerOptions{leaf.cert_pem, leaf.key_pem};
  auto server = testing::StartServer(std::move(plain), PeerRouter());
  ClientOptions client_options = testing::FastClient();
  client_options.tls.ca_pem = ca.cert_pem;
  client_options.tls.verify_server = [](std::span<const Bytes>) { return Status::Ok(); };
  EXPECT_EQ(HttpClient(client_options).Send({.url = Url(*server)}).error().reason(),
            "net.tls_config");
}

}  // namespace
}  // namespace lunal::net
