// Test fixtures for src/cds: a sim-tdx simulation root, a verifier trusting it, an operator key,
// a CDS in a temporary folder, and instances (SimTdxAttester + P-256 key) that request
// certificates the way an instance agent does. Private to the tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lunal/attest/engine/sim_source.h"
#include "lunal/attest/engine/verifier.h"
#include "lunal/attest/report_data.h"
#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/attest/tdx/event_log_lunal.h"
#include "lunal/cds/cds.h"
#include "lunal/cds/instance.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/csr.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/dsse.h"
#include "lunal/testing/testing.h"

namespace lunal::cds::testing {

// The reason of a failed result, or "ok": lets a test assert a refusal without aborting when an
// implementation wrongly succeeds.
template <typename T>
std::string ReasonOf(const Result<T>& r) {
  return r.ok() ? std::string("ok") : r.error().reason();
}

inline std::string BuildHash(char c) { return "sha256:" + std::string(64, c); }

inline Json Entry(std::string tenant, std::string deployment, std::vector<std::string> hashes,
                  bool allow_simulated = true) {
  return Json{{"tenant", tenant},
              {"deployment", deployment},
              {"build_hashes", hashes},
              {"allow_simulated", allow_simulated}};
}

inline std::string SignManifest(const crypto::PrivateKey& key, std::int64_t version,
                                const Json& entries) {
  Json payload = {
      {"version", version}, {"issued_at", "2026-11-21T12:00:00Z"}, {"entries", entries}};
  crypto::DsseEnvelope env{.payload_type = std::string(kAllowListPayloadType),
                           .payload = ToBytes(payload.dump()),
                           .signatures = {}};
  env.signatures.push_back(*crypto::SignDsse(env, key, "operator"));
  return crypto::SerializeDsse(env);
}

struct Instance {
  std::unique_ptr<attest::sim::SimTdxAttester> attester;
  crypto::PrivateKey key;
  std::string build_hash;
};

class CdsFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = attest::sim::SimulationRoot::Open(dir_ / "sim", clock_);
    ASSERT_TRUE(root.ok()) << root.error();
    root_ = *root;
    verifier_ = attest::engine::MakeLocalVerifier(
        {.collateral = attest::engine::MakeSimulationSource(root_),
         .simulated_anchors = {root_->Anchor()},
         .clock = &clock_});
    operator_key_ = std::make_unique<crypto::PrivateKey>(
        *crypto::PrivateKey::Generate(crypto::KeyType::kEcP256));
    OpenCds();
    ASSERT_TRUE(cds_->PutManifest(SignManifest(*operator_key_, 1, DefaultEntries())).ok());
  }

  static Json DefaultEntries() {
    return Json::array({Entry("acme", "api", {BuildHash('a'), BuildHash('c')}),
                        Entry("acme", "nosim", {BuildHash('a')}, /*allow_simulated=*/false),
                        Entry("globex", "web", {BuildHash('b')})});
  }

  void OpenCds() {
    cds_.reset();
    auto cds = Cds::Open({.state_dir = dir_ / "cds",
                          .operator_key_pem = *(*operator_key_->PublicKey()).ToPem(),
                          .verifier = verifier_,
                          .clock = &clock_});
    ASSERT_TRUE(cds.ok()) << cds.error();
    cds_ = std::move(*cds);
  }

  Instance MakeInstance(const std::string& build_hash,
                        std::uint64_t td_attributes = attest::sim::kTdAttributes) {
    const auto image = crypto::Sha384(AsBytes("cds test image"));
    auto attester = attest::sim::SimTdxAttester::Create(
        root_, {.mr_td = Bytes(image.begin(), image.end()), .td_attributes = td_attributes});
    EXPECT_TRUE(attester.ok()) << attester.error();
    auto event = attest::tdx::EncodeLunalEvent(
        {.type = attest::tdx::LunalEventType::kBuildHash, .value = build_hash});
    const auto digest = crypto::Sha384(*event);
    EXPECT_TRUE((*attester)->ExtendRtmr(3, digest, *event).ok());
    return Instance{.attester = std::move(*attester),
                    .key = *crypto::PrivateKey::Generate(crypto::KeyType::kEcP256),
                    .build_hash = build_hash};
  }

  // Evidence binding `bound_spki` (default: the instance key) and `nonce`.
  Bytes Evidence(Instance& in, const std::string& nonce,
                 std::optional<Bytes> bound_spki = std::nullopt) {
    const Bytes spki = bound_spki ? *bound_spki : *(*in.key.PublicKey()).ToSpkiDer();
    auto rd =
        attest::ReportDataFor({.key_spki_der = spki, .nonce = nonce, .build_hash = in.build_hash});
    EXPECT_TRUE(rd.ok());
    auto evidence = in.attester->Attest(*rd);
    EXPECT_TRUE(evidence.ok()) << evidence.error();
    return ToBytes(EvidenceEnvelope(*evidence).dump());
  }

  CertificateRequest Request(Instance& in, const std::string& nonce, std::string tenant = "acme",
                             std::string deployment = "api", std::string instance = "i-1") {
    return CertificateRequest{.evidence = Evidence(in, nonce),
                              .csr_pem = *crypto::BuildCsrPem(in.key, instance),
                              .nonce = nonce,
                              .tenant = std::move(tenant),
                              .deployment = std::move(deployment),
                              .instance = std::move(instance)};
  }

  std::string Nonce() {
    auto c = cds_->NewChallenge();
    EXPECT_TRUE(c.ok()) << c.error();
    return c.ok() ? c->nonce : "";
  }

  lunal::testing::TempDir dir_;
  FakeClock clock_{SystemClock::Instance().Now()};
  std::shared_ptr<const attest::sim::SimulationRoot> root_;
  std::shared_ptr<const attest::engine::EvidenceVerifier> verifier_;
  std::unique_ptr<crypto::PrivateKey> operator_key_;
  std::unique_ptr<Cds> cds_;
};

}  // namespace lunal::cds::testing
