// TLS and mutual TLS between HttpServer and HttpClient, with certificates made per test run.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lunal/net/client.h"
#include "lunal/net/server.h"
#include "test_support.h"

namespace lunal::net {
namespace {

using std::chrono::milliseconds;
using testing::LocalUrl;
using testing::MakeCa;
using testing::MakeLeaf;
using testing::StartServer;
using testing::TestCert;

class HttpTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = new TestCert(MakeCa("Lunal Test CA"));
    other_ca_ = new TestCert(MakeCa("Some Other CA"));
    server_cert_ = new TestCert(MakeLeaf("localhost", *ca_));
    client_cert_ = new TestCert(MakeLeaf("instance-7", *ca_));
    stranger_cert_ = new TestCert(MakeLeaf("stranger", *other_ca_));
  }
  static void TearDownTestSuite() {
    for (TestCert* cert : {ca_, other_ca_, server_cert_, client_cert_, stranger_cert_}) delete cert;
  }

  static Router PeerRouter() {
    Router router;
    EXPECT_TRUE(router
                    .Add("GET", "/peer",
                         [](HttpRequest& req) {
                           return HttpResponse::Json(
                               200,
                               {{"tls", req.is_tls},
                                {"peer_der_size", req.peer_certificate_der.size()},
                                {"peer_der", nlohmann::json::binary(req.peer_certificate_der)}});
                         })
                    .ok());
    return router;
  }

  std::unique_ptr<HttpServer> StartTls(std::optional<std::string> client_ca = std::nullopt,
                                       bool require_client_cert = false) {
    ServerOptions options;
    options.tls = TlsServerOptions{server_cert_->cert_pem, server_cert_->key_pem,
                                   std::move(client_ca), require_client_cert};
    return StartServer(options, PeerRouter());
  }

  static ClientOptions TrustingClient() {
    ClientOptions options;
    options.request_timeout = milliseconds(5000);
    options.tls.ca_pem = ca_->cert_pem;
    return options;
  }

  static Result<HttpResponse> Get(const HttpServer& server, ClientOptions options) {
    HttpClient client(std::move(options));
    return client.Send({.url = LocalUrl(server, "/peer", /*tls=*/true)});
  }

  static inline TestCert* ca_ = nullptr;
  static inline TestCert* other_ca_ = nullptr;
  static inline TestCert* server_cert_ = nullptr;
  static inline TestCert* client_cert_ = nullptr;
  static inline TestCert* stranger_cert_ = nullptr;
};

TEST_F(HttpTlsTest, ClientTrustingTheCaSucceedsAndKeepsAlive) {
  auto server = StartTls();
  HttpClient client(TrustingClient());
  for (int i = 0; i < 2; ++i) {
    Result<HttpResponse> response = client.Send({.url = LocalUrl(*server, "/peer", true)});
    ASSERT_TRUE(response.ok()) << response.error().ToString();
    nlohmann::json body = nlohmann::json::parse(response->body);
    EXPECT_EQ(body["tls"], true);
    EXPECT_EQ(body["peer_der_size"], 0);  // no client certificate requested
  }
  EXPECT_EQ(server->stats().accepted_connections, 1u);
  // "localhost" is in the certificate too.
  ClientOptions by_name = TrustingClient();
  by_name.tls.server_name = "localhost";
  EXPECT_TRUE(Get(*server, by_name).ok());
}

TEST_F(HttpTlsTest, WrongCaOrWrongNameFailsTheHandshake) {
  auto server = StartTls();
  ClientOptions wrong_ca = TrustingClient();
  wrong_ca.tls.ca_pem = other_ca_->cert_pem;
  Result<HttpResponse> response = Get(*server, wrong_ca);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().reason(), "net.tls_handshake_failed");
  EXPECT_NE(response.error().message().find("certificate verification failed"), std::string::npos)
      << response.error().message();

  ClientOptions wrong_name = TrustingClient();
  wrong_name.tls.server_name = "attestation.example.com";
  response = Get(*server, wrong_name);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().reason(), "net.tls_handshake_failed");

  ClientOptions system_cas;  // fail closed: a private CA is not in the system store
  response = Get(*server, system_cas);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().reason(), "net.tls_handshake_failed");
}

TEST_F(HttpTlsTest, PinnedSpkiReplacesTheCa) {
  auto server = StartTls();
  ClientOptions pinned;
  pinned.tls.pinned_spki_sha256 = server_cert_->spki_sha256;
  Result<HttpResponse> response = Get(*server, pinned);
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);

  ClientOptions wrong_pin;
  wrong_pin.tls.pinned_spki_sha256 = ca_->spki_sha256;  // the CA's key, not the server's
  response = Get(*server, wrong_pin);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code(), Code::kVerificationFailed);
  EXPECT_EQ(response.error().reason(), "net.tls_pin_mismatch");

  ClientOptions both = TrustingClient();  // CA and pin: both must hold
  both.tls.pinned_spki_sha256 = ca_->spki_sha256;
  EXPECT_EQ(Get(*server, both).error().reason(), "net.tls_pin_mismatch");
  EXPECT_EQ(server->stats().requests_served, 1u);  // no request left the failing clients
}

TEST_F(HttpTlsTest, MutualTlsRequiresAndDeliversTheClientCertificate) {
  auto server = StartTls(ca_->cert_pem, /*require_client_cert=*/true);
  Result<HttpResponse> anonymous = Get(*server, TrustingClient());
  ASSERT_FALSE(anonymous.ok());
  EXPECT_EQ(anonymous.error().reason(), "net.tls_handshake_failed") << anonymous.error().ToString();
  EXPECT_NE(anonymous.error().message().find("certificate required"), std::string::npos);

  ClientOptions stranger = TrustingClient();
  stranger.tls.client_cert_pem = stranger_cert_->cert_pem;
  stranger.tls.client_key_pem = stranger_cert_->key_pem;
  EXPECT_EQ(Get(*server, stranger).error().reason(), "net.tls_handshake_failed");

  ClientOptions member = TrustingClient();
  member.tls.client_cert_pem = client_cert_->cert_pem;
  member.tls.client_key_pem = client_cert_->key_pem;
  Result<HttpResponse> response = Get(*server, member);
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  nlohmann::json body = nlohmann::json::parse(response->body);
  Bytes der = body["peer_der"]["bytes"].get<Bytes>();
  EXPECT_EQ(der, client_cert_->cert_der);
}

TEST_F(HttpTlsTest, OptionalClientCertificate) {
  auto server = StartTls(ca_->cert_pem, /*require_client_cert=*/false);
  Result<HttpResponse> anonymous = Get(*server, TrustingClient());
  ASSERT_TRUE(anonymous.ok()) << anonymous.error().ToString();
  EXPECT_EQ(nlohmann::json::parse(anonymous->body)["peer_der_size"], 0);
  ClientOptions member = TrustingClient();
  member.tls.client_cert_pem = client_cert_->cert_pem;
  member.tls.client_key_pem = client_cert_->key_pem;
  Result<HttpResponse> response = Get(*server, member);
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(nlohmann::json::parse(response->body)["peer_der_size"], client_cert_->cert_der.size());
}

TEST_F(HttpTlsTest, BadServerConfigurationIsRejectedAtStart) {
  ServerOptions options;
  options.tls = TlsServerOptions{server_cert_->cert_pem, client_cert_->key_pem, {}, false};
  EXPECT_EQ(HttpServer(options, Router()).Start().reason(), "net.tls_config");  // key mismatch
  options.tls = TlsServerOptions{"not a pem", server_cert_->key_pem, {}, false};
  EXPECT_EQ(HttpServer(options, Router()).Start().reason(), "net.tls_config");
  options.tls = TlsServerOptions{server_cert_->cert_pem, server_cert_->key_pem, {}, true};
  EXPECT_EQ(HttpServer(options, Router()).Start().reason(), "net.tls_config");  // CA needed

  ClientOptions half;
  half.tls.ca_pem = ca_->cert_pem;
  half.tls.client_cert_pem = client_cert_->cert_pem;  // no key
  auto server = StartTls();
  EXPECT_EQ(Get(*server, half).error().reason(), "net.tls_config");
}

// A handshake from a bare OpenSSL client capped at `max_version`; returns the negotiated version
// or 0 when the handshake fails.
int HandshakeVersion(std::uint16_t port, int max_version) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(ctx, 0);  // let the client offer old versions at all
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx, max_version);
  SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int version = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) version = SSL_version(ssl);
    SSL_free(ssl);
  }
  ::close(fd);
  SSL_CTX_free(ctx);
  return version;
}

TEST_F(HttpTlsTest, OnlyTls12AndLaterAreAccepted) {
  auto server = StartTls();
  EXPECT_EQ(HandshakeVersion(server->port(), TLS1_3_VERSION), TLS1_3_VERSION);
  EXPECT_EQ(HandshakeVersion(server->port(), TLS1_2_VERSION), TLS1_2_VERSION);
  EXPECT_EQ(HandshakeVersion(server->port(), TLS1_1_VERSION), 0);
  EXPECT_EQ(HandshakeVersion(server->port(), TLS1_VERSION), 0);
}

}  // namespace
}  // namespace lunal::net
