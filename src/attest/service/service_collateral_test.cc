// Collateral through the service with the fake Intel PCS / AMD KDS (issue 5, "Done when"): a
// cold service fetches, caches and verifies; with the fake server stopped, cached collateral
// still serves until its nextUpdate, then verification fails with collateral unavailable. The
// service's clock is a FakeClock moved by the test; requests carry no "at".
#include <gtest/gtest.h>

#include "lunal/attest/collateral/fake_pcs_kds_server.h"
#include "lunal/common/encoding.h"
#include "lunal/testing/testing.h"
#include "service_testing.h"

namespace lunal::attest::service {
namespace {

using collateral::testing::FakePcsKdsServer;
using testing::Base64Of;
using testing::Call;
using testing::Evidence;
using testing::Post;
using testing::Reply;

const std::string kTdxQuote = "go-tdx-guest/testing/testdata/quote_v5_sample.dat";
const Timestamp kTdxAsOf = *ParseRfc3339("2026-03-31T22:20:07Z");
// A v5 report names its product (v2 reports do not, so KDS could not be asked for their VCEK).
const std::string kSnpReport =
    "lunal-attestation-rs/crates/attestation/test_data/snp/live-report-v5-genoa.bin";
const Timestamp kSnpAsOf = *ParseRfc3339("2029-08-19T11:01:36Z");

class ServiceCollateralTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fake = FakePcsKdsServer::Start({.evidence_dir = lunal::testing::SharedDir() / "evidence"});
    ASSERT_TRUE(fake.ok()) << fake.error();
    fake_ = std::move(*fake);
  }

  // A service whose only collateral is PCS and KDS (the fake), cached under cache_.
  testing::Running Serve() {
    ServiceConfig config;
    config.collateral.pcs = PcsConfig{.base_url = fake_->BaseUrl(),
                                      .root_ca_crl_url = fake_->RootCaCrlUrl(),
                                      .cache_dir = cache_ / "pcs"};
    config.collateral.kds = KdsConfig{.base_url = fake_->BaseUrl(), .cache_dir = cache_ / "kds"};
    auto running = testing::Start(config, {.clock = &clock_});
    EXPECT_TRUE(running.ok()) << running.error();
    return running.ok() ? std::move(*running) : testing::Running{};
  }

  Reply VerifyTdx(const testing::Running& s) {
    return Post(s.url + "/v1/attestation/verify", {{"evidence", Base64Of(Evidence(kTdxQuote))}});
  }

  // The earliest next_update of the documents the service lists as valid now.
  std::optional<Timestamp> EarliestNextUpdate(const testing::Running& s) {
    Reply listed = Call("GET", s.url + "/v1/attestation/collateral");
    std::optional<Timestamp> earliest;
    for (const Json& d : listed.json["documents"]) {
      if (!d["valid"].get<bool>() || !d.contains("next_update")) continue;
      const Timestamp t = *ParseRfc3339(d["next_update"].get<std::string>());
      if (!earliest || t < *earliest) earliest = t;
    }
    return earliest;
  }

  FakeClock clock_{kTdxAsOf};
  std::unique_ptr<FakePcsKdsServer> fake_;
  lunal::testing::TempDir cache_;
};

TEST_F(ServiceCollateralTest, AColdServiceFetchesCachesAndVerifiesThenServesFromCacheUntilExpiry) {
  fake_->ServeValidAt(kTdxAsOf);
  testing::Running s = Serve();
  ASSERT_NE(s.service, nullptr);
  EXPECT_EQ(Call("GET", s.url + "/v1/attestation/collateral").json["documents"], Json::array())
      << "cold: nothing held yet";

  Reply cold = VerifyTdx(s);
  ASSERT_EQ(cold.status, 200) << cold.text;
  EXPECT_EQ(cold.json["status"], "verified") << cold.json.dump(1);
  EXPECT_GT(fake_->TotalRequests(), 0u) << "the cold service fetched";
  EXPECT_FALSE(std::filesystem::is_empty(cache_ / "pcs")) << "and cached what it fetched";
  Reply listed = Call("GET", s.url + "/v1/attestation/collateral");
  ASSERT_GE(listed.json["documents"].size(), 4u) << listed.text;
  for (const Json& d : listed.json["documents"]) EXPECT_TRUE(d["valid"].get<bool>()) << d.dump();
  const std::optional<Timestamp> expiry = EarliestNextUpdate(s);
  ASSERT_TRUE(expiry.has_value());
  ASSERT_GT(*expiry, kTdxAsOf);

  // The fake PCS goes away; a warm service and a restarted one over the same cache still verify.
  fake_->Stop();
  fake_->ResetCounts();
  EXPECT_EQ(VerifyTdx(s).json["status"], "verified");
  s.service->Stop(std::chrono::milliseconds(0));
  testing::Running restarted = Serve();
  ASSERT_NE(restarted.service, nullptr);
  Reply from_cache = VerifyTdx(restarted);
  EXPECT_EQ(from_cache.json["status"], "verified") << from_cache.text;
  // …until the first document's nextUpdate: just before it, still verified; at it, unavailable.
  clock_.Set(*expiry - std::chrono::minutes(1));
  EXPECT_EQ(VerifyTdx(restarted).json["status"], "verified");
  clock_.Set(*expiry);
  Reply expired = VerifyTdx(restarted);
  ASSERT_EQ(expired.status, 200) << expired.text;
  EXPECT_EQ(expired.json["status"], "failed") << expired.json.dump(1);
  EXPECT_EQ(expired.json["error"]["code"], "unavailable") << expired.json.dump(1);
  EXPECT_TRUE(expired.json["error"]["reason"].get<std::string>().starts_with("tdx.collateral."))
      << expired.json.dump(1);
  EXPECT_EQ(fake_->TotalRequests(), 0u) << "the fake was stopped";
  // The listing says the expired document is no longer valid.
  bool some_invalid = false;
  Reply after = Call("GET", restarted.url + "/v1/attestation/collateral");
  for (const Json& d : after.json["documents"]) {
    some_invalid = some_invalid || !d["valid"].get<bool>();
  }
  EXPECT_TRUE(some_invalid) << after.json.dump(1);
}

TEST_F(ServiceCollateralTest, AnSnpReportWithoutItsVcekGetsItFromKdsAndKeepsIt) {
  clock_.Set(kSnpAsOf);
  testing::Running s = Serve();
  ASSERT_NE(s.service, nullptr);
  const Json request = {{"evidence", Base64Of(Evidence(kSnpReport))}};
  Reply cold = Post(s.url + "/v1/attestation/verify", request);
  ASSERT_EQ(cold.status, 200) << cold.text;
  EXPECT_NE(cold.json["status"], "failed") << cold.json.dump(1);
  EXPECT_EQ(
      cold.json["attestation"]["measurements"]["measurement"].get<std::string>().substr(0, 16),
      "d9912ba396ce409c");
  fake_->Stop();
  s.service->Stop(std::chrono::milliseconds(0));
  testing::Running restarted = Serve();
  ASSERT_NE(restarted.service, nullptr);
  Reply cached = Post(restarted.url + "/v1/attestation/verify", request);
  EXPECT_EQ(cached.json["status"], cold.json["status"]) << cached.json.dump(1);
}

TEST_F(ServiceCollateralTest, WithNothingFetchableTheVerdictSaysCollateralIsUnavailable) {
  fake_->Stop();
  testing::Running s = Serve();
  ASSERT_NE(s.service, nullptr);
  Reply r = VerifyTdx(s);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.json["status"], "failed");
  EXPECT_EQ(r.json["error"]["code"], "unavailable") << r.json.dump(1);
  EXPECT_TRUE(r.json["error"]["reason"].get<std::string>().starts_with("collateral."))
      << r.json.dump(1);
}

}  // namespace
}  // namespace lunal::attest::service
