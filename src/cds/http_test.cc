// The CDS over HTTP: the same pipeline as cds_test.cc, through src/net's server and client, with
// bearer tokens for the owner and operator endpoints and the JSON error bodies.
#include "lunal/cds/http.h"

#include <gtest/gtest.h>

#include "lunal/net/client.h"
#include "lunal/net/server.h"
#include "test_support.h"

namespace lunal::cds {
namespace {

using testing::BuildHash;

TokenDigest Digest(std::string_view token) { return crypto::Sha256(AsBytes(token)); }

class CdsHttpTest : public testing::CdsFixture {
 protected:
  void SetUp() override {
    CdsFixture::SetUp();
    auto router = MakeRouter(*cds_, {.operator_tokens = {Digest("op-token")},
                                     .tenant_tokens = {{"acme", {Digest("acme-token")}},
                                                       {"globex", {Digest("globex-token")}}}});
    ASSERT_TRUE(router.ok());
    server_ = std::make_unique<net::HttpServer>(net::ServerOptions{}, std::move(*router));
    ASSERT_TRUE(server_->Start().ok());
    base_ = fmt::format("http://127.0.0.1:{}", server_->port());
  }
  void TearDown() override { server_->Stop(std::chrono::milliseconds(100)); }

  net::HttpResponse Call(std::string method, std::string path, std::string body = "",
                         std::string token = "") {
    net::HttpClientRequest req{
        .method = std::move(method), .url = base_ + path, .headers = {}, .body = std::move(body)};
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    auto r = client_.Send(req);
    EXPECT_TRUE(r.ok()) << r.error();
    return r.ok() ? *r : net::HttpResponse{};
  }
  static std::string Reason(const net::HttpResponse& r) {
    auto j = ParseJson(r.body);
    return j.ok() ? j->value("error", Json::object()).value("reason", "") : "";
  }

  std::unique_ptr<net::HttpServer> server_;
  net::HttpClient client_;
  std::string base_;
};

TEST_F(CdsHttpTest, ChallengeThenCertificateThenRegistry) {
  auto challenge = Call("POST", "/v1/cds/challenge");
  ASSERT_EQ(challenge.status, 200);
  const std::string nonce = (*ParseJson(challenge.body))["nonce"];
  auto in = MakeInstance(BuildHash('a'));
  CertificateRequest r = Request(in, nonce);
  Json body = {{"evidence", *ParseJson(AsStringView(r.evidence))},
               {"csr", r.csr_pem},
               {"nonce", nonce},
               {"tenant", "acme"},
               {"deployment", "api"},
               {"instance", "i-1"}};
  auto issued = Call("POST", "/v1/cds/certificates", body.dump());
  ASSERT_EQ(issued.status, 200) << issued.body;
  Json cert = *ParseJson(issued.body);
  EXPECT_EQ(cert["uri"], "lunal://acme/api/i-1");
  EXPECT_TRUE(crypto::Certificate::FromPem(cert["certificate"].get<std::string>()).ok());

  // The same request again: the nonce is spent (a verification failure: 422).
  auto replay = Call("POST", "/v1/cds/certificates", body.dump());
  EXPECT_EQ(replay.status, 422);
  EXPECT_EQ(Reason(replay), "cds.nonce.replayed");

  EXPECT_EQ(Call("GET", "/v1/cds/registry").status, 401);
  EXPECT_EQ(Reason(Call("GET", "/v1/cds/registry", "", "acme-token")), "auth.invalid_token");
  auto registry = Call("GET", "/v1/cds/registry", "", "op-token");
  ASSERT_EQ(registry.status, 200);
  EXPECT_EQ((*ParseJson(registry.body))["identities"][0]["serial"], cert["serial"]);
}

TEST_F(CdsHttpTest, PolicyRefusalsAre403AndBadRequestsAre400) {
  auto in = MakeInstance(BuildHash('e'));
  const std::string nonce = (*ParseJson(Call("POST", "/v1/cds/challenge").body))["nonce"];
  CertificateRequest r = Request(in, nonce);
  Json body = {{"evidence", Base64Encode(r.evidence)},
               {"csr", r.csr_pem},
               {"nonce", nonce},
               {"tenant", "acme"},
               {"deployment", "api"},
               {"instance", "i-1"}};
  auto refused = Call("POST", "/v1/cds/certificates", body.dump());
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(Reason(refused), "cds.allow_list.build_hash");
  body.erase("csr");
  auto bad = Call("POST", "/v1/cds/certificates", body.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Reason(bad), "cds.request.bad_field");
}

TEST_F(CdsHttpTest, ManifestPutAndGet) {
  auto put =
      Call("PUT", "/v1/cds/manifest", testing::SignManifest(*operator_key_, 2, DefaultEntries()));
  ASSERT_EQ(put.status, 200) << put.body;
  auto rollback =
      Call("PUT", "/v1/cds/manifest", testing::SignManifest(*operator_key_, 2, DefaultEntries()));
  EXPECT_EQ(rollback.status, 409);
  EXPECT_EQ(Reason(rollback), "cds.manifest.rollback");
  auto other = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  auto forged = Call("PUT", "/v1/cds/manifest", testing::SignManifest(*other, 9, DefaultEntries()));
  EXPECT_EQ(forged.status, 422);
  EXPECT_EQ(Reason(forged), "cds.manifest.bad_signature");
  Json doc = *ParseJson(Call("GET", "/v1/cds/manifest").body);
  EXPECT_EQ(doc["active"]["version"], 2);
  EXPECT_EQ(doc["previous"]["version"], 1);
}

TEST_F(CdsHttpTest, SecretsNeedTheOwnersTokenAndReleaseOverHttp) {
  Json secret = {{"value", Base64Encode(AsBytes("s3cr3t"))},
                 {"policy", {{"build_hashes", {BuildHash('a')}}}}};
  EXPECT_EQ(Call("PUT", "/v1/cds/secrets/api-key", secret.dump()).status, 401);
  EXPECT_EQ(Call("PUT", "/v1/cds/secrets/api-key", secret.dump(), "nope").status, 401);
  auto put = Call("PUT", "/v1/cds/secrets/api-key", secret.dump(), "acme-token");
  ASSERT_EQ(put.status, 200) << put.body;

  auto in = MakeInstance(BuildHash('a'));
  auto eph = *crypto::PrivateKey::Generate(crypto::KeyType::kX25519);
  const std::string nonce = (*ParseJson(Call("POST", "/v1/cds/challenge").body))["nonce"];
  auto rd = SecretReleaseReportData(*(*eph.PublicKey()).ToSpkiDer(), nonce, in.build_hash, "acme",
                                    "api-key");
  Json body = {{"evidence", EvidenceEnvelope(*in.attester->Attest(*rd))},
               {"nonce", nonce},
               {"tenant", "acme"},
               {"deployment", "api"},
               {"public_key", Base64Encode(*(*eph.PublicKey()).RawPublic())}};
  auto released = Call("POST", "/v1/cds/secrets/api-key/release", body.dump());
  ASSERT_EQ(released.status, 200) << released.body;
  Json j = *ParseJson(released.body);
  SealedSecret sealed{
      .ephemeral_public = *Base64Decode(j["ephemeral_public_key"].get<std::string>()),
      .aead_nonce = *Base64Decode(j["nonce"].get<std::string>()),
      .ciphertext = *Base64Decode(j["ciphertext"].get<std::string>())};
  auto opened = OpenSealedSecret(eph, sealed, "acme", "api-key");
  ASSERT_TRUE(opened.ok()) << opened.error();
  EXPECT_EQ(AsStringView(*opened), "s3cr3t");
}

TEST_F(CdsHttpTest, BeaconOverHttpVerifies) {
  auto r = Call("POST", "/v1/cds/beacon");
  ASSERT_EQ(r.status, 200);
  Json j = *ParseJson(r.body);
  Beacon b{.time = j["time"], .signature = *Base64Decode(j["signature"].get<std::string>())};
  Json ca = *ParseJson(Call("GET", "/v1/cds/ca").body);
  auto cert = crypto::Certificate::FromPem(ca["certificate"].get<std::string>());
  ASSERT_TRUE(cert.ok());
  EXPECT_TRUE(VerifyBeacon(*cert, b, clock_.Now(), std::chrono::seconds(10)).ok());
}

}  // namespace
}  // namespace lunal::cds
