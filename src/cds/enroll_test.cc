// cds::Enroll against a real CDS served over HTTP on 127.0.0.1 (docs/protocols/cds.md §1–2), with
// sim-tdx evidence: the certificate it returns verifies as a mesh peer, and the CDS's refusals
// reach the caller with their own reasons.
#include "lunal/cds/enroll.h"

#include <gtest/gtest.h>

#include "lunal/cds/http.h"
#include "lunal/crypto/x509.h"
#include "lunal/net/server.h"
#include "lunal/testing/ports.h"
#include "test_support.h"

#ifdef LUNAL_CDS_TEST_HAVE_MESH
#include "lunal/mesh/peer.h"
#include "lunal/mesh/tls.h"
#endif

namespace lunal::cds {
namespace {

using testing::BuildHash;
using testing::ReasonOf;

class EnrollTest : public testing::CdsFixture {
 protected:
  void SetUp() override {
    CdsFixture::SetUp();
    auto router = MakeRouter(*cds_, {});
    ASSERT_TRUE(router.ok()) << router.error();
    server_ = std::make_unique<net::HttpServer>(net::ServerOptions{}, std::move(*router));
    ASSERT_TRUE(server_->Start().ok());
    url_ = fmt::format("http://127.0.0.1:{}", server_->port());
  }
  void TearDown() override { server_->Stop(std::chrono::milliseconds(100)); }

  EnrollOptions Options(testing::Instance& in, std::string deployment = "api") {
    return EnrollOptions{.cds_url = url_,
                         .attester = in.attester.get(),
                         .key = &in.key,
                         .tenant = "acme",
                         .deployment = std::move(deployment),
                         .instance = "i-7",
                         .build_hash = in.build_hash};
  }

  std::unique_ptr<net::HttpServer> server_;
  std::string url_;
};

TEST_F(EnrollTest, IssuesACertificateThatVerifiesAsAMeshPeer) {
  auto in = MakeInstance(BuildHash('a'));
  auto e = Enroll(Options(in));
  ASSERT_TRUE(e.ok()) << e.error();

  // "leaf then CA": two certificates, the second the CDS's CA.
  auto chain = crypto::ParsePemChain(e->certificate_pem);
  ASSERT_TRUE(chain.ok()) << chain.error();
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ((*chain)[1].ToPem(), cds_->ca_certificate().ToPem());
  EXPECT_EQ(e->ca_pem, cds_->ca_certificate().ToPem());
  // The certificate is for the key we hold, and the key PEM is that key.
  auto leaf_key = (*chain)[0].PublicKey();
  ASSERT_TRUE(leaf_key.ok());
  EXPECT_EQ(*leaf_key->ToSpkiDer(), *(*in.key.PublicKey()).ToSpkiDer());
  auto reloaded = crypto::PrivateKey::FromPem(e->key_pem);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(*(*reloaded->PublicKey()).ToSpkiDer(), *(*in.key.PublicKey()).ToSpkiDer());
  // The envelope sent is the sim-tdx one, and the nonce was spent.
  EXPECT_EQ(e->evidence.value("platform", ""), "tdx");
  EXPECT_FALSE(e->nonce.empty());

#ifdef LUNAL_CDS_TEST_HAVE_MESH
  auto trust = mesh::MeshTrust::FromPem(e->ca_pem, clock_);
  ASSERT_TRUE(trust.ok()) << trust.error();
  const auto& der = (*chain)[0].Der();
  const std::vector<Bytes> peer_chain = {Bytes(der.begin(), der.end())};
  auto peer = mesh::VerifyMeshPeer(peer_chain, *trust,
                                   {.tenant = "acme",
                                    .deployment = "api",
                                    .instance = "i-7",
                                    .build_hashes = {BuildHash('a')},
                                    .allow_simulated = true});
  ASSERT_TRUE(peer.ok()) << peer.error();
  EXPECT_EQ(peer->build_hash, BuildHash('a'));
  EXPECT_EQ(peer->tee, "tdx");
  EXPECT_TRUE(peer->simulated);
  // And the pair loads as mesh credentials (the key matches the leaf).
  auto creds = mesh::MeshCredentials::Load(e->certificate_pem, e->key_pem);
  ASSERT_TRUE(creds.ok()) << creds.error();
  EXPECT_EQ((*creds)->Identity().Uri(), "lunal://acme/api/i-7");
#endif
}

TEST_F(EnrollTest, RenewalIsAFreshEnrolmentWithANewNonce) {
  auto in = MakeInstance(BuildHash('c'));
  auto first = Enroll(Options(in));
  auto second = Enroll(Options(in));
  ASSERT_TRUE(first.ok()) << first.error();
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_NE(first->nonce, second->nonce);
  EXPECT_NE(first->certificate_pem, second->certificate_pem);
}

TEST_F(EnrollTest, BuildHashNotOnTheListPassesTheCdsReasonThrough) {
  auto in = MakeInstance(BuildHash('d'));  // the list names 'a' and 'c' for acme/api
  auto e = Enroll(Options(in));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason(), "cds.allow_list.build_hash");
  EXPECT_EQ(e.error().code(), Code::kPolicyViolation);
}

TEST_F(EnrollTest, OtherCdsRefusalsKeepTheirReasons) {
  // No entry for the deployment.
  auto in = MakeInstance(BuildHash('a'));
  EXPECT_EQ(ReasonOf(Enroll(Options(in, "elsewhere"))), "cds.allow_list.no_entry");
  // Claiming a build hash the RTMR3 log does not carry: REPORT_DATA no longer matches.
  auto options = Options(in);
  options.build_hash = BuildHash('c');
  EXPECT_EQ(ReasonOf(Enroll(options)), "cds.binding.mismatch");
  // An entry that refuses simulated evidence.
  EXPECT_EQ(ReasonOf(Enroll(Options(in, "nosim"))), "cds.policy.simulated");
}

TEST_F(EnrollTest, BadOptionsAndTransportErrors) {
  auto in = MakeInstance(BuildHash('a'));
  auto options = Options(in);
  options.attester = nullptr;
  EXPECT_EQ(ReasonOf(Enroll(options)), "cds.enroll.bad_options");
  options = Options(in);
  options.key = nullptr;
  EXPECT_EQ(ReasonOf(Enroll(options)), "cds.enroll.bad_options");

  // A port nothing listens on, held so that nothing else can start listening there.
  const lunal::testing::ReservedPort nobody;
  options = Options(in);
  options.cds_url = fmt::format("http://127.0.0.1:{}", nobody.port());
  auto e = Enroll(options);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason(), "net.connect_failed");
  EXPECT_EQ(e.error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace lunal::cds
