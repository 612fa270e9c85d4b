// LocalVerifier over real evidence: container decoding, collateral, the three verifiers, event
// logs and the default policy, giving the verdicts of ../shared/evidence/README.md's table; and
// sim-tdx evidence in the Lunal envelope, trusted only when its root is.
#include <gtest/gtest.h>

#include "lunal/attest/engine/sim_source.h"
#include "lunal/attest/engine/verifier.h"
#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/testing/testing.h"

namespace lunal::attest::engine {
namespace {

namespace fs = std::filesystem;

fs::path Evidence(std::string_view path) { return testing::SharedDir() / "evidence" / path; }

// The shared Intel collateral folder as a source (what FolderSource does, without fetching).
class PoolSource final : public collateral::CollateralSource {
 public:
  explicit PoolSource(std::shared_ptr<const tdx::CollateralPool> pool) : pool_(std::move(pool)) {}
  Result<std::shared_ptr<const tdx::CollateralPool>> TdxPool(const collateral::TdxNeed&,
                                                             Timestamp) override {
    return pool_;
  }
  Result<Bytes> SnpVcek(const collateral::SnpNeed&, Timestamp) override {
    return Unavailable("collateral.unavailable", "no VCEKs here");
  }
  Result<std::vector<Bytes>> SnpCrls(snp::Product, Timestamp) override {
    return std::vector<Bytes>{};
  }
  std::vector<collateral::DocumentInfo> Describe(Timestamp) const override { return {}; }

 private:
  std::shared_ptr<const tdx::CollateralPool> pool_;
};

std::shared_ptr<collateral::CollateralSource> IntelSource() {
  static const auto source = [] {
    auto pool = tdx::CollateralPool::LoadDirectory(Evidence("collateral/intel"));
    EXPECT_TRUE(pool.ok()) << pool.error();
    return std::make_shared<PoolSource>(pool.ok() ? *pool : nullptr);
  }();
  return source;
}

const EvidenceVerifier& Verifier() {
  static const auto verifier = MakeLocalVerifier({.collateral = IntelSource()});
  return *verifier;
}

Timestamp At(std::string_view text) { return *ParseRfc3339(text); }

struct Row {
  std::string file;
  std::string cert;  // "" = carried or not needed
  std::string as_of;
  std::string status;                // verified | rejected | failed
  std::vector<std::string> reasons;  // failed: the error's reason; rejected: every violation
};
void PrintTo(const Row& row, std::ostream* os) { *os << row.file; }

const std::string kRs = "lunal-attestation-rs/crates/attestation/test_data/";
const std::string kTr = "trustee/deps/verifier/test_data/";

class EngineEvidenceTest : public ::testing::TestWithParam<Row> {};

TEST_P(EngineEvidenceTest, GivesTheTablesVerdictUnderTheDefaultPolicy) {
  const Row& row = GetParam();
  VerifyRequest request{.evidence = testing::ReadFileBytes(Evidence(row.file)),
                        .as_of = At(row.as_of)};
  if (!row.cert.empty()) request.certs.push_back(testing::ReadFileBytes(Evidence(row.cert)));
  auto response = Verifier().Verify(request);
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->record["status"], row.status) << response->record.dump(1);
  if (row.status == "failed") {
    ASSERT_EQ(row.reasons.size(), 1u);
    EXPECT_EQ(response->error.reason(), row.reasons[0]) << response->error;
    EXPECT_EQ(response->record["error"]["reason"], row.reasons[0]);
    EXPECT_TRUE(response->essentials.empty());
    return;
  }
  std::vector<std::string> reasons;
  for (const Json& v : response->record["attestation"]["policy"]["violations"]) {
    reasons.push_back(v["reason"]);
  }
  EXPECT_EQ(reasons, row.reasons);
  EXPECT_EQ(response->essentials["policy"], row.status == "verified" ? "pass" : "fail");
  EXPECT_EQ(response->essentials["tee"], response->tee);
}

INSTANTIATE_TEST_SUITE_P(
    Table, EngineEvidenceTest,
    ::testing::Values(
        // TDX: OutOfDate and debug are verified facts that the default policy refuses.
        Row{kRs + "tdx_quote_4.dat",
            "",
            "2026-03-31T22:25:04Z",
            "rejected",
            {"policy.debug_forbidden", "policy.tcb_status_not_accepted"}},
        Row{"go-tdx-guest/testing/testdata/quote_v5_sample.dat",
            "",
            "2026-03-31T22:20:07Z",
            "verified",
            {}},
        Row{"go-tdx-guest/testing/testdata/ccel/cos-113-tdx-quote.dat",
            "",
            "2025-10-01T00:34:24Z",
            "verified",
            {}},
        Row{kRs + "tdx_quote_5.dat",
            "",
            "2026-03-31T22:20:07Z",
            "failed",
            {"tdx.tcb.not_supported"}},
        Row{kRs + "tdx_quote_live.dat",
            "",
            "2026-03-31T22:25:04Z",
            "failed",
            {"tdx.collateral.expired"}},
        // SNP: the debug-allowed report fails the default policy (README: "SNP debug").
        Row{"go-sev-guest/verify/testdata/attestation.bin",
            "go-sev-guest/verify/testdata/vcek.testcer",
            "2026-03-25T12:55:28Z",
            "rejected",
            {"policy.debug_forbidden"}},
        Row{kRs + "snp/test-report.bin",
            kRs + "snp/test-vcek.der",
            "2026-07-26T05:58:26Z",
            "verified",
            {}},
        Row{kRs + "snp/test-report.bin",
            kRs + "snp/test-vcek-invalid-new.der",
            "2027-02-16T02:27:09Z",
            "failed",
            {"snp.chain.signature_invalid"}},
        // Runs at VMPL 1: verified, but the default policy admits VMPL 0 only.
        Row{kRs + "snp/test-vlek-report.bin",
            kRs + "snp/test-vlek.der",
            "2025-06-11T10:14:21Z",
            "rejected",
            {"policy.vmpl_not_allowed"}},
        Row{kRs + "snp/test-vlek-report.bin",
            kRs + "snp/test-vlek.der",
            "2026-01-01T00:00:00Z",
            "failed",
            {"snp.vlek.expired"}},
        Row{kRs + "snp/live-evidence-genoa.json", "", "2029-08-21T11:50:30Z", "verified", {}},
        Row{"trustee/attestation-service/tests/e2e/evidence.json",
            "",
            "2028-11-26T05:57:03Z",
            "verified",
            {}},
        // Azure: the whole chain, SNP and TDX (OutOfDate: rejected by default).
        Row{kRs + "az_snp/evidence-v1.json", "", "2026-11-01T09:22:19Z", "verified", {}},
        Row{kTr + "az-snp-vtpm/evidence-genoa.json", "", "2028-07-25T02:21:48Z", "verified", {}},
        Row{kRs + "az_tdx/live-evidence.json", "", "2026-03-31T22:20:07Z", "verified", {}},
        Row{kRs + "az_tdx/evidence-v1.json",
            "",
            "2025-10-01T00:34:24Z",
            "rejected",
            {"policy.tcb_status_not_accepted"}}),
    [](const auto& param_info) { return "row" + std::to_string(param_info.index); });

TEST(EngineTest, APolicyNamingTheAdvisoriesAcceptsOutOfDate) {
  auto policy = policy::ParsePolicy(
      "allow_debug: true\n"
      "tcb:\n"
      "  accepted_advisories: [INTEL-SA-00837, INTEL-SA-00960, INTEL-SA-00982, INTEL-SA-00986,\n"
      "    INTEL-SA-01010, INTEL-SA-01036, INTEL-SA-01076, INTEL-SA-01079, INTEL-SA-01099,\n"
      "    INTEL-SA-01103, INTEL-SA-01111]\n",
      "test-policy.yaml");
  ASSERT_TRUE(policy.ok()) << policy.error();
  auto response =
      Verifier().Verify({.evidence = testing::ReadFileBytes(Evidence(kRs + "tdx_quote_4.dat")),
                         .as_of = At("2026-03-31T22:25:04Z"),
                         .policy = *policy});
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->record["status"], "verified") << response->record["attestation"]["policy"];
}

TEST(EngineTest, EventLogReplaysAndItsBuildHashIsAClaim) {
  VerifyRequest request{.evidence = testing::ReadFileBytes(
                            Evidence("go-tdx-guest/testing/testdata/ccel/cos-113-tdx-quote.dat")),
                        .as_of = At("2025-10-01T00:34:24Z"),
                        .event_log = testing::ReadFileBytes(
                            Evidence("go-tdx-guest/testing/testdata/ccel/ccel_data.dat"))};
  auto response = Verifier().Verify(request);
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->record["status"], "verified");
  EXPECT_EQ(response->record["attestation"]["event_log"]["all_match"], true);
  // Another TD's log: a verification failure, not a request error.
  request.evidence = testing::ReadFileBytes(Evidence(kRs + "tdx_quote_4.dat"));
  request.as_of = At("2026-03-31T22:25:04Z");
  auto other = Verifier().Verify(request);
  ASSERT_TRUE(other.ok()) << other.error();
  EXPECT_EQ(other->record["status"], "failed");
  EXPECT_EQ(other->error.reason(), "tdx.event_log.rtmr_mismatch");
}

TEST(EngineTest, RequestErrorsAreNotVerdicts) {
  auto garbage = Verifier().Verify({.evidence = ToBytes("not evidence")});
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().reason(), "attestation.evidence_unrecognized");

  auto cert_for_tdx =
      Verifier().Verify({.evidence = testing::ReadFileBytes(Evidence(kRs + "tdx_quote_4.dat")),
                         .certs = {testing::ReadFileBytes(Evidence(kRs + "snp/test-vcek.der"))}});
  ASSERT_FALSE(cert_for_tdx.ok());
  EXPECT_EQ(cert_for_tdx.error().reason(), "attestation.option_not_applicable");

  auto no_collateral = MakeLocalVerifier({})->Verify(
      {.evidence = testing::ReadFileBytes(Evidence(kRs + "tdx_quote_4.dat"))});
  ASSERT_FALSE(no_collateral.ok());
  EXPECT_EQ(no_collateral.error().reason(), "attestation.no_collateral");
}

// ---- The Lunal envelope and sim-tdx ----

class SimEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = sim::SimulationRoot::Open(dir_ / "sim", clock_);
    ASSERT_TRUE(root.ok()) << root.error();
    root_ = *root;
    auto attester = sim::SimTdxAttester::Create(
        root_,
        {.mr_td = crypto::Digest(crypto::DigestAlgorithm::kSha384, ToBytes("sandbox image"))});
    ASSERT_TRUE(attester.ok()) << attester.error();
    attester_ = std::move(*attester);
  }

  Bytes Envelope(std::string_view report_data_text, Json extra = Json::object()) {
    Bytes report_data = crypto::Digest(crypto::DigestAlgorithm::kSha512, ToBytes(report_data_text));
    auto evidence = attester_->Attest(std::span<const std::uint8_t, 64>(report_data.data(), 64));
    EXPECT_TRUE(evidence.ok()) << evidence.error();
    Json envelope = {{"platform", "tdx"},
                     {"quote", Base64Encode(evidence->quote)},
                     {"event_log", Base64Encode(evidence->event_log)}};
    envelope.update(extra);
    return ToBytes(envelope.dump());
  }

  testing::TempDir dir_;
  FakeClock clock_{At("2026-11-21T10:00:00Z")};
  std::shared_ptr<const sim::SimulationRoot> root_;
  std::unique_ptr<sim::SimTdxAttester> attester_;
};

TEST_F(SimEngineTest, VerifiesOnlyWhenTheSimulationRootIsTrusted) {
  auto source = MakeSimulationSource(root_, IntelSource());
  auto trusting = MakeLocalVerifier(
      {.collateral = source, .simulated_anchors = {root_->Anchor()}, .clock = &clock_});
  const Bytes envelope = Envelope("instance key");
  auto ok = trusting->Verify({.evidence = envelope});
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok->record["status"], "verified") << ok->record.dump(1);
  EXPECT_EQ(ok->record["attestation"]["tee"]["simulated"], true);
  EXPECT_EQ(ok->record["attestation"]["evidence_container"], "lunal-envelope");
  EXPECT_EQ(ok->essentials["simulated"], true);

  auto not_trusting = MakeLocalVerifier({.collateral = source, .clock = &clock_});
  auto refused = not_trusting->Verify({.evidence = envelope});
  ASSERT_TRUE(refused.ok()) << refused.error();
  EXPECT_EQ(refused->record["status"], "failed");
  EXPECT_EQ(refused->error.reason(), "tdx.pck_chain.untrusted_root");

  // An explicit policy decides about simulation itself.
  auto strict = trusting->Verify({.evidence = envelope, .policy = policy::DefaultPolicy()});
  ASSERT_TRUE(strict.ok());
  EXPECT_EQ(strict->record["status"], "rejected");
  EXPECT_EQ(strict->record["attestation"]["policy"]["violations"][0]["reason"],
            "policy.simulated_forbidden");
}

TEST_F(SimEngineTest, EnvelopeIsStrict) {
  auto verifier = MakeLocalVerifier({.collateral = MakeSimulationSource(root_),
                                     .simulated_anchors = {root_->Anchor()},
                                     .clock = &clock_});
  auto unknown = verifier->Verify({.evidence = Envelope("x", {{"quotes", "AAAA"}})});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().reason(), "engine.envelope.unknown_field");
  auto platform = verifier->Verify({.evidence = Envelope("x", {{"platform", "sgx"}})});
  ASSERT_FALSE(platform.ok());
  EXPECT_EQ(platform.error().reason(), "engine.envelope.platform");
  auto swapped = verifier->Verify({.evidence = Envelope("x", {{"platform", "snp"}})});
  ASSERT_FALSE(swapped.ok());
  EXPECT_EQ(swapped.error().reason(), "engine.envelope.missing_evidence");
}

}  // namespace
}  // namespace lunal::attest::engine
