// Mesh TLS end to end: real HttpServer / HttpClient over 127.0.0.1 (port 0), certificates from a
// throwaway mesh CA (test_ca.h), expiry judged by an injected clock, openssl s_client as a peer.
#include "lunal/mesh/tls.h"

#include <gtest/gtest.h>

#include <thread>

#include "lunal/crypto/digest.h"
#include "lunal/net/errors.h"
#include "lunal/testing/testing.h"
#include "test_ca.h"

namespace lunal::mesh {
namespace {

using namespace std::chrono_literals;
using testing::Ca;
using testing::Profile;

Profile Instance(std::string instance) {
  Profile p;
  p.instance = std::move(instance);
  return p;
}

class MeshTlsTest : public ::testing::Test {
 protected:
  MeshTlsTest()
      : ca_(testing::MakeCa()),
        clock_(FromSeconds(testing::TestNow())),
        trust_(*MeshTrust::FromPem(ca_.pem, clock_)) {}

  static PeerExpectation Expect(std::optional<std::string> instance = std::nullopt) {
    return PeerExpectation{.tenant = "acme",
                           .deployment = "chat",
                           .instance = std::move(instance),
                           .build_hashes = {std::string(testing::kBuildA)}};
  }

  static std::shared_ptr<MeshCredentials> Credentials(const testing::Issued& issued) {
    Result<std::shared_ptr<MeshCredentials>> creds =
        MeshCredentials::Load(issued.chain_pem, issued.key_pem);
    EXPECT_TRUE(creds) << creds.error();
    return creds ? *creds : nullptr;
  }

  // A mesh server for `self`. GET /whoami answers the client's URI and serial; /whoami?close
  // also closes the connection, so the next request makes a new handshake.
  void StartServer(const testing::Issued& self, PeerExpectation clients = Expect()) {
    server_credentials_ = Credentials(self);
    Result<net::TlsServerOptions> tls =
        MeshServerTls(server_credentials_, trust_, std::move(clients),
                      [this](std::string_view, const Status& why) {
                        std::lock_guard<std::mutex> lock(mu_);
                        refusals_.push_back(why);
                      });
    ASSERT_TRUE(tls) << tls.error();
    net::Router router;
    ASSERT_TRUE(router
                    .Add("GET", "/whoami",
                         [](net::HttpRequest& request) {
                           Result<MeshIdentity> peer = PeerIdentity(request);
                           if (!peer) return net::HttpResponse::Json(500, peer.error().reason());
                           net::HttpResponse response = net::HttpResponse::Json(
                               200, {{"peer", peer->Uri()}, {"serial", peer->serial_hex}});
                           if (request.Query("close")) response.AddHeader("Connection", "close");
                           return response;
                         })
                    .ok());
    net::ServerOptions options;
    options.read_timeout = 5s;
    options.tls = std::move(*tls);
    server_ = std::make_unique<net::HttpServer>(std::move(options), std::move(router));
    ASSERT_TRUE(server_->Start().ok());
  }

  std::string Url(std::string_view path = "/whoami") const {
    return "https://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }

  std::unique_ptr<net::HttpClient> Client(const testing::Issued& self,
                                          PeerExpectation server = Expect("i-1")) {
    Result<net::ClientTlsOptions> tls = MeshClientTls(Credentials(self), trust_, std::move(server));
    EXPECT_TRUE(tls) << tls.error();
    net::ClientOptions options;
    options.connect_timeout = 2s;
    options.request_timeout = 5s;
    options.tls = std::move(*tls);
    return std::make_unique<net::HttpClient>(std::move(options));
  }

  // The server's refusal hook runs on its I/O thread, possibly after the client gave up.
  std::string WaitForRefusal() {
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!refusals_.empty()) return refusals_.front().reason();
      }
      std::this_thread::sleep_for(10ms);
    }
    return "no refusal";
  }

  // Whether the server refused a handshake with `reason` (waiting for its I/O thread).
  bool Refused(std::string_view reason) {
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const Status& s : refusals_) {
          if (s.reason() == reason) return true;
        }
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  Ca ca_;
  FakeClock clock_;
  MeshTrust trust_;
  // Declared before server_, so the server (whose I/O threads call the refusal hook) stops first.
  std::mutex mu_;
  std::vector<Status> refusals_;
  std::shared_ptr<MeshCredentials> server_credentials_;
  std::unique_ptr<net::HttpServer> server_;
};

TEST_F(MeshTlsTest, TwoInstancesSeeEachOther) {
  testing::Issued a = testing::Issue(ca_, Instance("i-1"));
  testing::Issued b = testing::Issue(ca_, Instance("i-2"));
  StartServer(a);
  std::unique_ptr<net::HttpClient> client = Client(b);
  Result<net::HttpResponse> response = client->Send({.url = Url()});
  ASSERT_TRUE(response) << response.error();
  ASSERT_EQ(response->status, 200) << response->body;
  nlohmann::json body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["peer"], "lunal://acme/chat/i-2");  // the server saw the client
  EXPECT_EQ(body["serial"], b.cert.SerialHex());
  Result<MeshIdentity> server = PeerIdentity(*response);  // the client saw the server
  ASSERT_TRUE(server) << server.error();
  EXPECT_EQ(server->Uri(), "lunal://acme/chat/i-1");
  EXPECT_EQ(server->serial_hex, a.cert.SerialHex());
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_TRUE(refusals_.empty());
}

TEST_F(MeshTlsTest, ServerRefusesExpiredClient) {
  StartServer(testing::Issue(ca_, Instance("i-1")));
  Profile old = Instance("i-2");
  old.not_before = testing::TestNow() - 2h;
  old.not_after = testing::TestNow() - 1h;
  Result<net::HttpResponse> response = Client(testing::Issue(ca_, old))->Send({.url = Url()});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().reason(), "net.tls_handshake_failed") << response.error();
  EXPECT_EQ(WaitForRefusal(), "mesh.peer.expired");
}

TEST_F(MeshTlsTest, ClientRefusesExpiredServer) {
  Profile old = Instance("i-1");
  old.not_before = testing::TestNow() - 2h;
  old.not_after = testing::TestNow() - 1h;
  StartServer(testing::Issue(ca_, old));
  Result<net::HttpResponse> response =
      Client(testing::Issue(ca_, Instance("i-2")))->Send({.url = Url()});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().reason(), "mesh.peer.expired") << response.error();
  EXPECT_EQ(response.error().code(), Code::kVerificationFailed);
}

TEST_F(MeshTlsTest, ExpiryFollowsTheInjectedClock) {
  StartServer(testing::Issue(ca_, Instance("i-1")));
  std::unique_ptr<net::HttpClient> client = Client(testing::Issue(ca_, Instance("i-2")));
  ASSERT_TRUE(client->Send({.url = Url("/whoami?close")}));
  clock_.Set(FromSeconds(testing::TestNow() + 2h));  // both certificates are now expired
  Result<net::HttpResponse> response = client->Send({.url = Url()});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().reason(), "mesh.peer.expired") << response.error();
}

TEST_F(MeshTlsTest, AnotherCaWithTheSameNamesIsRefusedBothWays) {
  Ca impostor = testing::MakeCa();  // same names as ca_, another key
  StartServer(testing::Issue(ca_, Instance("i-1")));
  Result<net::HttpResponse> response =
      Client(testing::Issue(impostor, Instance("i-2")))->Send({.url = Url()});
  ASSERT_FALSE(response);
  EXPECT_EQ(WaitForRefusal(), "mesh.peer.untrusted_ca");

  server_.reset();
  StartServer(testing::Issue(impostor, Instance("i-1")));
  response = Client(testing::Issue(ca_, Instance("i-2")))->Send({.url = Url()});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().reason(), "mesh.peer.untrusted_ca") << response.error();
}

TEST_F(MeshTlsTest, ClientRefusesWrongTenantDeploymentInstanceOrBuild) {
  StartServer(testing::Issue(ca_, Instance("i-1")));
  testing::Issued b = testing::Issue(ca_, Instance("i-2"));
  struct Case {
    PeerExpectation expected;
    std::string reason;
  };
  std::vector<Case> cases = {
      {PeerExpectation{.tenant = "globex", .any_build = true}, "mesh.peer.wrong_identity"},
      {PeerExpectation{.tenant = "acme", .deployment = "billing", .any_build = true},
       "mesh.peer.wrong_identity"},
      {Expect("i-9"), "mesh.peer.wrong_identity"},
      {PeerExpectation{.tenant = "acme", .build_hashes = {std::string(testing::kBuildB)}},
       "mesh.peer.build_hash_not_allowed"},
  };
  for (const Case& c : cases) {
    Result<net::HttpResponse> response = Client(b, c.expected)->Send({.url = Url()});
    ASSERT_FALSE(response) << c.reason;
    EXPECT_EQ(response.error().reason(), c.reason) << response.error();
    EXPECT_EQ(response.error().code(), Code::kPolicyViolation);
  }
  EXPECT_TRUE(Client(b, Expect("i-1"))->Send({.url = Url()}));
}

TEST_F(MeshTlsTest, ServerRefusesWrongTenantAndBuild) {
  PeerExpectation clients = Expect();
  StartServer(testing::Issue(ca_, Instance("i-1")), clients);
  Profile other_tenant = Instance("i-2");
  other_tenant.tenant = "globex";
  EXPECT_FALSE(Client(testing::Issue(ca_, other_tenant))->Send({.url = Url()}));
  EXPECT_EQ(WaitForRefusal(), "mesh.peer.wrong_identity");
  {
    std::lock_guard<std::mutex> lock(mu_);
    refusals_.clear();
  }
  Profile other_build = Instance("i-2");
  other_build.build_hash = std::string(testing::kBuildB);
  EXPECT_FALSE(Client(testing::Issue(ca_, other_build))->Send({.url = Url()}));
  EXPECT_EQ(WaitForRefusal(), "mesh.peer.build_hash_not_allowed");
}

TEST_F(MeshTlsTest, ServerRefusesSimulatedUnlessAllowed) {
  StartServer(testing::Issue(ca_, Instance("i-1")));
  Profile simulated = Instance("i-2");
  simulated.simulated = true;
  EXPECT_FALSE(Client(testing::Issue(ca_, simulated))->Send({.url = Url()}));
  EXPECT_EQ(WaitForRefusal(), "mesh.peer.simulated_not_allowed");
}

TEST_F(MeshTlsTest, ClientWithoutCertificateIsRefused) {
  testing::Issued a = testing::Issue(ca_, Instance("i-1"));
  StartServer(a);
  // A TLS client that trusts the server (by its key) but has no certificate of its own.
  net::ClientOptions options;
  options.request_timeout = 5s;
  options.tls.pinned_spki_sha256 = crypto::Sha256(ParseMeshCertificate(a.cert)->spki);
  Result<net::HttpResponse> response = net::HttpClient(options).Send({.url = Url()});
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().reason(), "net.tls_handshake_failed") << response.error();
  EXPECT_EQ(WaitForRefusal(), "mesh.peer.no_certificate");
}

TEST_F(MeshTlsTest, RotationNewHandshakesPresentTheNewCertificate) {
  testing::Issued a1 = testing::Issue(ca_, Instance("i-1"));
  testing::Issued b1 = testing::Issue(ca_, Instance("i-2"));
  StartServer(a1);
  std::shared_ptr<MeshCredentials> b_credentials = Credentials(b1);
  Result<net::ClientTlsOptions> tls = MeshClientTls(b_credentials, trust_, Expect("i-1"));
  ASSERT_TRUE(tls);
  net::ClientOptions options;
  options.tls = std::move(*tls);
  net::HttpClient client(std::move(options));

  Result<net::HttpResponse> first = client.Send({.url = Url("/whoami?close")});
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(PeerIdentity(*first)->serial_hex, a1.cert.SerialHex());
  EXPECT_EQ(nlohmann::json::parse(first->body)["serial"], b1.cert.SerialHex());

  // An hour later both renew at the CDS (new keys, new serials) and reload.
  clock_.Set(FromSeconds(testing::TestNow() + 50min));
  Profile a_next = Instance("i-1");
  Profile b_next = Instance("i-2");
  a_next.not_before = b_next.not_before = testing::TestNow() + 49min;
  a_next.not_after = b_next.not_after = testing::TestNow() + 109min;
  testing::Issued a2 = testing::Issue(ca_, a_next);
  testing::Issued b2 = testing::Issue(ca_, b_next);
  ASSERT_TRUE(server_credentials_->Reload(a2.chain_pem, a2.key_pem).ok());
  ASSERT_TRUE(b_credentials->Reload(b2.chain_pem, b2.key_pem).ok());
  EXPECT_EQ(server_credentials_->Identity().serial_hex, a2.cert.SerialHex());

  clock_.Set(FromSeconds(testing::TestNow() + 70min));  // the first certificates have expired
  Result<net::HttpResponse> second = client.Send({.url = Url("/whoami?close")});
  ASSERT_TRUE(second) << second.error();
  EXPECT_EQ(PeerIdentity(*second)->serial_hex, a2.cert.SerialHex());
  EXPECT_EQ(nlohmann::json::parse(second->body)["serial"], b2.cert.SerialHex());
}

TEST_F(MeshTlsTest, ReloadRefusesAnotherIdentityAndKeepsTheCurrentPair) {
  testing::Issued a = testing::Issue(ca_, Instance("i-1"));
  std::shared_ptr<MeshCredentials> creds = Credentials(a);
  testing::Issued other = testing::Issue(ca_, Instance("i-2"));
  EXPECT_EQ(creds->Reload(other.chain_pem, other.key_pem).reason(),
            "mesh.credentials.identity_changed");
  testing::Issued renewed = testing::Issue(ca_, Instance("i-1"));
  EXPECT_EQ(creds->Reload(renewed.chain_pem, a.key_pem).reason(), "net.tls_config");
  EXPECT_EQ(creds->Identity().serial_hex, a.cert.SerialHex());
  EXPECT_EQ(creds->tls()->LeafDer(), Bytes(a.cert.Der().begin(), a.cert.Der().end()));
  EXPECT_EQ(MeshCredentials::Load(ca_.pem, a.key_pem).error().reason().rfind("mesh.cert.", 0), 0u);
}

TEST_F(MeshTlsTest, OptionsRefuseVagueExpectations) {
  std::shared_ptr<MeshCredentials> creds = Credentials(testing::Issue(ca_));
  EXPECT_EQ(MeshServerTls(creds, trust_, PeerExpectation{.tenant = "acme"}).error().reason(),
            "mesh.expectation.invalid");
  EXPECT_EQ(MeshClientTls(creds, trust_, PeerExpectation{}).error().reason(),
            "mesh.expectation.invalid");
}

// openssl s_client as the other instance: TLS 1.3 with its mesh certificate works and the server
// sees its URI; TLS 1.2, or no certificate, is refused.
TEST_F(MeshTlsTest, OpensslSClientInterop) {
  if (!lunal::testing::HaveProgram("openssl")) GTEST_SKIP() << "no openssl";
  StartServer(testing::Issue(ca_, Instance("i-1")));
  testing::Issued b = testing::Issue(ca_, Instance("i-2"));
  lunal::testing::TempDir dir;
  lunal::testing::WriteFile(dir / "ca.pem", ca_.pem);
  lunal::testing::WriteFile(dir / "b.pem", b.cert_pem);
  lunal::testing::WriteFile(dir / "b.key", b.key_pem);
  std::string at = std::to_string(testing::TestNow().time_since_epoch().count());
  auto s_client = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {"openssl",
                                     "s_client",
                                     "-connect",
                                     "127.0.0.1:" + std::to_string(server_->port()),
                                     "-CAfile",
                                     (dir / "ca.pem").string(),
                                     "-attime",
                                     at,
                                     "-verify_return_error",
                                     "-quiet"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    lunal::testing::ProcessOptions options;
    options.stdin_data = "GET /whoami?close HTTP/1.1\r\nHost: i-1\r\n\r\n";
    options.timeout = 10s;
    return lunal::testing::RunProcess(argv, options);
  };
  std::vector<std::string> with_cert = {"-cert", (dir / "b.pem").string(), "-key",
                                        (dir / "b.key").string()};
  std::vector<std::string> tls13 = with_cert;
  tls13.push_back("-tls1_3");
  lunal::testing::ProcessResult ok = s_client(tls13);
  EXPECT_NE(ok.out.find("lunal://acme/chat/i-2"), std::string::npos) << ok.out << ok.err;

  std::vector<std::string> tls12 = with_cert;
  tls12.push_back("-tls1_2");
  lunal::testing::ProcessResult old = s_client(tls12);
  EXPECT_EQ(old.out.find("lunal://"), std::string::npos) << old.out;

  EXPECT_TRUE(Refused("net.tls_handshake_failed"));  // no TLS 1.2

  lunal::testing::ProcessResult anonymous = s_client({"-tls1_3"});
  EXPECT_EQ(anonymous.out.find("lunal://"), std::string::npos) << anonymous.out;
  EXPECT_TRUE(Refused("mesh.peer.no_certificate"));
}

// MeshPeerAuthorizer: the handshake admits any acme client; routes guarded by the authorizer
// admit only acme/gateway. The check reads the certificate the handshake verified, so on a
// server without mesh TLS (no peer certificate) it refuses everything.
TEST_F(MeshTlsTest, PeerAuthorizerAdmitsOnlyTheExpectedDeployment) {
  auto authorize = MeshPeerAuthorizer(
      {.tenant = "acme", .deployment = "gateway", .any_build = true}, "svc.auth.unauthenticated");
  ASSERT_TRUE(authorize) << authorize.error();
  Result<net::TlsServerOptions> tls =
      MeshServerTls(Credentials(testing::Issue(ca_, Instance("i-1"))), trust_,
                    {.tenant = "acme", .any_build = true});
  ASSERT_TRUE(tls) << tls.error();
  net::Router router;
  ASSERT_TRUE(router
                  .Add("GET", "/guarded",
                       [auth = *authorize](net::HttpRequest& request) {
                         if (Status s = auth(request); !s.ok()) return net::ErrorResponse(s);
                         return net::HttpResponse::Json(200, {{"ok", true}});
                       })
                  .ok());
  net::ServerOptions options;
  options.tls = std::move(*tls);
  server_ = std::make_unique<net::HttpServer>(std::move(options), std::move(router));
  ASSERT_TRUE(server_->Start().ok());

  Profile gateway = Instance("gw-1");
  gateway.deployment = "gateway";
  Result<net::HttpResponse> admitted =
      Client(testing::Issue(ca_, gateway))->Send({.url = Url("/guarded")});
  ASSERT_TRUE(admitted) << admitted.error();
  EXPECT_EQ(admitted->status, 200);

  // Another deployment of the same tenant passes the handshake, not the authorizer.
  Result<net::HttpResponse> refused =
      Client(testing::Issue(ca_, Instance("i-2")))->Send({.url = Url("/guarded")});
  ASSERT_TRUE(refused) << refused.error();
  EXPECT_EQ(refused->status, 401);
  const Status why = net::StatusFromErrorBody(refused->status, refused->body);
  EXPECT_EQ(why.reason(), "svc.auth.unauthenticated");
  EXPECT_NE(why.message().find("lunal://acme/chat/i-2"), std::string::npos) << why;

  // A request that came without a verified certificate (a plain server) is refused.
  net::HttpRequest plain;
  Status none = (*authorize)(plain);
  EXPECT_EQ(none.code(), Code::kUnauthenticated);
  EXPECT_NE(none.message().find("mesh.peer.no_certificate"), std::string::npos) << none;

  EXPECT_EQ(MeshPeerAuthorizer({.tenant = ""}, "r").error().reason(), "mesh.expectation.invalid");
}

}  // namespace
}  // namespace lunal::mesh
