// The CDS verifying through a remote attestation service (src/attest/service over HTTP) instead
// of in process: the same appraisal and the same refusals, with the policy (minimum TCB)
// forwarded and the service's reasons preserved.
#include "lunal/cds/remote_verifier.h"

#include <gtest/gtest.h>

#include "lunal/attest/service/service.h"
#include "test_support.h"

namespace lunal::cds {
namespace {

using testing::BuildHash;

class RemoteVerifierTest : public testing::CdsFixture {
 protected:
  void SetUp() override {
    CdsFixture::SetUp();
    auto service = attest::service::AttestationService::Create(
        {.verifier = verifier_,
         .clock = &clock_,
         .auth = {.token_sha256 = {crypto::Sha256(AsBytes("svc-token"))}}});
    ASSERT_TRUE(service.ok()) << service.error();
    service_ = std::move(*service);
    ASSERT_TRUE(service_->Start({}).ok());
    verifier_ = MakeRemoteVerifier({.base_url = service_->url(), .token = "svc-token"});
    OpenCds();  // the same state, now verifying remotely
  }
  void TearDown() override { service_->Stop(std::chrono::milliseconds(100)); }

  std::unique_ptr<attest::service::AttestationService> service_;
};

TEST_F(RemoteVerifierTest, IssuesThroughTheServiceWithTheSameEssentials) {
  auto in = MakeInstance(BuildHash('a'));
  auto issued = cds_->IssueCertificate(Request(in, Nonce()));
  ASSERT_TRUE(issued.ok()) << issued.error();
  EXPECT_EQ(issued->build_hash, BuildHash('a'));
  EXPECT_EQ(issued->tee, "tdx");
  EXPECT_TRUE(issued->simulated);
  auto registry = cds_->Registry();
  EXPECT_EQ((*registry)["identities"][0]["tcb_status"], "UpToDate");
  // The essentials rebuilt from the record equal the engine's own, but for the container name.
  CertificateRequest probe = Request(in, "x");
  auto local =
      attest::engine::MakeLocalVerifier({.collateral = attest::engine::MakeSimulationSource(root_),
                                         .simulated_anchors = {root_->Anchor()},
                                         .clock = &clock_});
  auto direct = local->Verify({.evidence = probe.evidence});
  auto remote = verifier_->Verify({.evidence = probe.evidence});
  ASSERT_TRUE(direct.ok() && remote.ok());
  for (const char* key : {"tee", "simulated", "debug", "measurements", "report_data", "tcb_status",
                          "build_hash", "advisory_ids"}) {
    EXPECT_EQ(remote->essentials[key], direct->essentials[key]) << key;
  }
}

TEST_F(RemoteVerifierTest, RefusalsKeepTheirReasons) {
  auto debug = MakeInstance(BuildHash('a'), attest::sim::kTdAttributes | 1u);
  EXPECT_EQ(testing::ReasonOf(cds_->IssueCertificate(Request(debug, Nonce()))), "cds.policy.debug");
  auto other = MakeInstance(BuildHash('e'));
  EXPECT_EQ(testing::ReasonOf(cds_->IssueCertificate(Request(other, Nonce()))),
            "cds.allow_list.build_hash");
  // The entry's minimum TCB travels in the request's policy.
  Json entries = DefaultEntries();
  entries[0]["min_tcb"] = {{"tdx", {{"tee_tcb_svn", "06010200000000000000000000000000"}}}};
  ASSERT_TRUE(cds_->PutManifest(testing::SignManifest(*operator_key_, 2, entries)).ok());
  auto good = MakeInstance(BuildHash('a'));
  EXPECT_EQ(testing::ReasonOf(cds_->IssueCertificate(Request(good, Nonce()))), "cds.policy.tcb");
}

TEST_F(RemoteVerifierTest, ServiceErrorsAndFailuresComeThrough) {
  auto in = MakeInstance(BuildHash('a'));
  CertificateRequest req = Request(in, Nonce());
  Json env = *ParseJson(AsStringView(req.evidence));
  Bytes quote = *Base64Decode(env["quote"].get<std::string>());
  quote[200] ^= 1;
  env["quote"] = Base64Encode(quote);
  req.evidence = ToBytes(env.dump());
  auto r = cds_->IssueCertificate(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed) << r.error();
  EXPECT_FALSE(r.error().reason().starts_with("cds.")) << r.error();

  auto unauthenticated = MakeRemoteVerifier({.base_url = service_->url(), .token = "wrong"});
  auto v = unauthenticated->Verify({.evidence = Request(in, "x").evidence});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().reason(), "auth.invalid_token");
}

}  // namespace
}  // namespace lunal::cds
