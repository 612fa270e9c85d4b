// SimTdxAttester end to end: attest → tdx::Verifier with the simulation root trusted (pass,
// simulated) or not (fail at the chain); the quote's fields; RTMR extension and event log replay;
// collateral expiry; concurrency.
#include "lunal/attest/sim/sim_tdx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "lunal/attest/sim/platform.h"
#include "lunal/attest/tdx/event_log.h"
#include "lunal/attest/tdx/event_log_lunal.h"
#include "lunal/attest/tdx/quote.h"
#include "lunal/attest/tdx/quote_layout.h"
#include "lunal/common/encoding.h"
#include "sim_test_support.h"

namespace lunal::attest::sim {
namespace {

using ::testing::HasSubstr;
using testing::ReportData;
using testing::Sha384Of;
using testing::SimWorld;

Bytes Copy(ByteSpan s) { return Bytes(s.begin(), s.end()); }

class SimTdx : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(w_.Init()); }

  Evidence AttestOk(std::uint8_t seed) {
    auto evidence = w_.attester->Attest(ReportData(seed));
    EXPECT_TRUE(evidence.ok()) << evidence.error();
    return evidence.ok() ? *evidence : Evidence{};
  }

  SimWorld w_;
};

TEST_F(SimTdx, AttestThenVerifyWithTheSimulationRootTrusted) {
  const auto report_data = ReportData(42);
  Evidence evidence = AttestOk(42);
  EXPECT_TRUE(evidence.simulated);
  EXPECT_EQ(evidence.provider, "lunal_sim_tdx");
  EXPECT_EQ(evidence.tee, TeeType::kTdx);
  EXPECT_TRUE(evidence.aux_blob.empty());
  EXPECT_EQ(w_.attester->Name(), "sim-tdx");

  auto v = w_.verifier->Verify(
      evidence.quote, {.as_of = w_.clock.Now(), .expected_report_data = Copy(report_data)});
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_TRUE(v->simulated);
  EXPECT_EQ(v->report_data, Copy(report_data));
  EXPECT_EQ(v->mr_td, Sha384Of("sandbox image"));
  EXPECT_EQ(v->quote_version, 4);
  EXPECT_FALSE(v->debug);
  EXPECT_EQ(v->td_attribute_flags, std::vector<std::string>{"SEPT_VE_DISABLE"});
  EXPECT_EQ(v->tcb.status, tdx::TcbStatus::kUpToDate);
  EXPECT_EQ(v->tcb.qe_status, tdx::TcbStatus::kUpToDate);
  EXPECT_EQ(v->tcb.tdx_module_status, tdx::TcbStatus::kUpToDate);
  EXPECT_EQ(v->pck.fmspc, kFmspc);
  EXPECT_EQ(v->qe_isv_svn, kQeIsvSvn);
  EXPECT_EQ(v->tee_tcb_svn, Copy(kTeeTcbSvn));
  EXPECT_THAT(v->certificate_chain, HasSubstr("Lunal Simulation Root CA (pinned)"));
  EXPECT_EQ(v->rtmr, w_.attester->Rtmrs());
  EXPECT_EQ(v->collateral_valid_until,
            FromSeconds(ToSeconds(w_.clock.Now())) + kCollateralValidity);

  const Json json = v->ToJson();
  EXPECT_EQ(json["tee"]["type"], "tdx");
  EXPECT_EQ(json["tee"]["simulated"], true);
  EXPECT_EQ(json["measurements"]["report_data"], HexEncode(report_data));

  // Another REPORT_DATA than expected fails at the last step.
  auto wrong = w_.verifier->Verify(evidence.quote,
                                   {.as_of = w_.clock.Now(), .expected_report_data = Bytes(64, 0)});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().reason(), "tdx.report_data.mismatch");
}

TEST_F(SimTdx, QuoteHasIntelsFormat) {
  Evidence evidence = AttestOk(1);
  auto q = tdx::ParseQuote(evidence.quote);  // strict: no trailing bytes at all
  ASSERT_TRUE(q.ok()) << q.error();
  EXPECT_EQ(q->quote.size(), evidence.quote.size());
  EXPECT_EQ(q->header.version, tdx::layout::kVersion4);
  EXPECT_EQ(q->header.att_key_type, tdx::layout::kAttKeyTypeEcdsaP256);
  EXPECT_EQ(q->header.tee_type, tdx::layout::kTeeTypeTdx);
  EXPECT_TRUE(std::equal(q->header.qe_vendor_id.begin(), q->header.qe_vendor_id.end(),
                         tdx::layout::kIntelQeVendorId.begin()));
  EXPECT_EQ(q->body.type, tdx::BodyType::kTd10);
  EXPECT_EQ(q->body.td_attributes.bits, kTdAttributes);
  EXPECT_FALSE(q->body.td_attributes.debug());
  EXPECT_EQ(Copy(q->body.mr_td), Sha384Of("sandbox image"));
  EXPECT_EQ(Copy(q->body.mr_seam), Sha384Of(kMrSeamSeed));
  EXPECT_EQ(Copy(q->body.mr_signer_seam), Bytes(48, 0));
  EXPECT_EQ(Copy(q->body.mr_config_id), Bytes(48, 0));
  EXPECT_EQ(Copy(q->body.rtmr[3]), Bytes(48, 0));  // nothing extended yet
  EXPECT_EQ(Copy(q->attestation_key), w_.root->attestation_public_key());
  EXPECT_EQ(q->qe_report.isv_prod_id, kQeIsvProdId);
  EXPECT_EQ(q->qe_report.isv_svn, kQeIsvSvn);
  EXPECT_EQ(q->qe_auth_data.size(), kQeAuthDataSize);
  EXPECT_EQ(q->qe_auth_data[31], 31);
  EXPECT_EQ(std::string(q->pck_cert_chain_pem) + '\0', w_.root->pck_chain_data());
  // Each quote is signed afresh (ECDSA's random nonce), over the same measurements.
  Evidence again = AttestOk(1);
  EXPECT_NE(again.quote, evidence.quote);
  auto q2 = tdx::ParseQuote(again.quote);
  ASSERT_TRUE(q2.ok());
  EXPECT_TRUE(std::equal(q2->signed_region.begin(), q2->signed_region.end(),
                         q->signed_region.begin(), q->signed_region.end()));
}

TEST_F(SimTdx, IntelRootOnlyRejectsAtThePckChain) {
  Evidence evidence = AttestOk(7);
  tdx::Verifier intel_only(w_.pool);  // default anchors: Intel SGX Root CA
  auto v = intel_only.Verify(evidence.quote, {.as_of = w_.clock.Now()});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code(), Code::kVerificationFailed);
  EXPECT_EQ(v.error().reason(), "tdx.pck_chain.untrusted_root");

  // Another installation's root, however it is trusted, does not vouch for this quote.
  FakeClock clock(w_.clock.Now());
  auto other = SimulationRoot::Open(w_.dir / "other", clock);
  ASSERT_TRUE(other.ok());
  tdx::Verifier other_root(w_.pool, {}, {(*other)->Anchor()});
  v = other_root.Verify(evidence.quote, {.as_of = w_.clock.Now()});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().reason(), "tdx.pck_chain.untrusted_root");
}

TEST_F(SimTdx, SimulationRootMisconfiguredAsRealStillSaysSimulated) {
  Evidence evidence = AttestOk(9);
  tdx::Verifier as_real(w_.pool, {tdx::IntelSgxRootCaAnchor(), w_.root->Anchor()});
  auto v = as_real.Verify(evidence.quote, {.as_of = w_.clock.Now()});
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_TRUE(v->simulated);
  EXPECT_EQ(v->ToJson()["tee"]["simulated"], true);
}

TEST_F(SimTdx, CollateralExpiry) {
  Evidence evidence = AttestOk(3);
  const Timestamp issued = FromSeconds(ToSeconds(w_.clock.Now()));
  auto before = w_.verifier->Verify(
      evidence.quote, {.as_of = issued + kCollateralValidity - std::chrono::seconds(1)});
  ASSERT_TRUE(before.ok()) << before.error();
  auto after = w_.verifier->Verify(evidence.quote, {.as_of = issued + kCollateralValidity});
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code(), Code::kUnavailable);
  EXPECT_EQ(after.error().reason(), "tdx.collateral.expired");

  // Fresh collateral makes the same quote verify again later.
  auto renewed = w_.root->Collateral(issued + kCollateralValidity);
  ASSERT_TRUE(renewed.ok());
  tdx::Verifier later(tdx::CollateralPool::Build(*renewed, w_.root->PoolOptions()), {},
                      {w_.root->Anchor()});
  auto v = later.Verify(evidence.quote, {.as_of = issued + kCollateralValidity});
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_TRUE(v->simulated);
}

TEST_F(SimTdx, EventLogReplaysToEveryRtmrAfterBuildHash) {
  const tdx::LunalEvent build{.type = tdx::LunalEventType::kBuildHash,
                              .value = "sha256:" + std::string(64, 'a')};
  auto event = tdx::EncodeLunalEvent(build);
  ASSERT_TRUE(event.ok()) << event.error();
  const auto digest = crypto::Sha384(*event);
  ASSERT_TRUE(w_.attester->ExtendRtmr(3, digest, *event).ok());

  Evidence evidence = AttestOk(5);
  auto v = w_.verifier->Verify(evidence.quote, {.as_of = w_.clock.Now()});
  ASSERT_TRUE(v.ok()) << v.error();
  // RTMR3 = SHA-384(0^48 ‖ digest), computed here independently of the attester.
  Bytes expected_rtmr3(96, 0);  // (not insert(): GCC 12 at -O2 misreports it, -Warray-bounds)
  std::copy(digest.begin(), digest.end(), expected_rtmr3.begin() + 48);
  EXPECT_EQ(v->rtmr[3], Sha384Of(AsStringView(expected_rtmr3)));

  auto log = tdx::ParseEventLog(evidence.event_log);
  ASSERT_TRUE(log.ok()) << log.error();
  EXPECT_EQ(log->events.size(), testing::TestConfig().boot_measurements.size() + 1);
  auto check = tdx::CheckEventLog(*log, v->rtmr);
  ASSERT_TRUE(check.ok()) << check.error();
  EXPECT_TRUE(check->all_match) << check->ToJson().dump();
  EXPECT_TRUE(tdx::RequireRtmrMatch(*check).ok());
  EXPECT_EQ(check->lunal_build_hash, build.value);
  // RTMR0..2 carry the boot measurements: two events on RTMR1.
  EXPECT_EQ(check->replay.events[0].size(), 1u);
  EXPECT_EQ(check->replay.events[1].size(), 2u);
  EXPECT_EQ(check->replay.events[2].size(), 1u);
  EXPECT_THAT(check->replay.events[0][0].description, HasSubstr("lunal.node-agent"));
  for (const Bytes& r : v->rtmr) EXPECT_NE(r, Bytes(48, 0));

  // The log of an earlier quote does not replay to a later quote's RTMR3.
  Bytes before_log = evidence.event_log;
  ASSERT_TRUE(w_.attester->ExtendRtmr(3, digest, *event).ok());
  Evidence later = AttestOk(6);
  auto v2 = w_.verifier->Verify(later.quote, {.as_of = w_.clock.Now()});
  ASSERT_TRUE(v2.ok());
  auto old_check = tdx::CheckEventLog(*tdx::ParseEventLog(before_log), v2->rtmr);
  ASSERT_TRUE(old_check.ok());
  EXPECT_FALSE(old_check->rtmr_match[3]);
  EXPECT_TRUE(old_check->rtmr_match[0]);
  // Two build hashes in one log are refused by the replay's reader.
  auto twice = tdx::CheckEventLog(*tdx::ParseEventLog(later.event_log), v2->rtmr);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().reason(), "tdx.event_log.lunal.duplicate_build_hash");
}

TEST_F(SimTdx, ExtendRtmrArguments) {
  const auto before = w_.attester->Rtmrs();
  const Bytes log_before = w_.attester->EventLog();
  const Bytes event = ToBytes("an event");
  const auto digest = crypto::Sha384(event);
  struct Case {
    int index;
    Bytes digest;
    std::string reason;
  };
  const Case cases[] = {
      {-1, Copy(digest), "attest.rtmr.bad_index"},
      {4, Copy(digest), "attest.rtmr.bad_index"},
      {3, Bytes(32, 1), "attest.rtmr.bad_digest"},
      {3, Sha384Of("another event"), "attest.rtmr.digest_mismatch"},
  };
  const tdx::LunalEvent build{.type = tdx::LunalEventType::kBuildHash,
                              .value = "sha256:" + std::string(64, 'b')};
  const Bytes lunal = *tdx::EncodeLunalEvent(build);
  for (int index : {0, 1, 2}) {
    Status s = w_.attester->ExtendRtmr(index, crypto::Sha384(lunal), lunal);
    EXPECT_EQ(s.reason(), "attest.rtmr.lunal_event_not_rtmr3") << index;
  }
  for (const Case& c : cases) {
    Status s = w_.attester->ExtendRtmr(c.index, c.digest, event);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << c.reason;
    EXPECT_EQ(s.reason(), c.reason);
  }
  EXPECT_EQ(w_.attester->Rtmrs(), before);  // failed calls change nothing
  EXPECT_EQ(w_.attester->EventLog(), log_before);
  // Any RTMR may be extended at run time.
  ASSERT_TRUE(w_.attester->ExtendRtmr(0, digest, event).ok());
  EXPECT_NE(w_.attester->Rtmrs()[0], before[0]);
  EXPECT_EQ(w_.attester->Rtmrs()[1], before[1]);
}

TEST_F(SimTdx, CreateValidatesTheConfiguration) {
  SimTdxConfig no_mrtd;
  auto r = SimTdxAttester::Create(w_.root, no_mrtd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "sim.config.bad_mr_td");

  SimTdxConfig rtmr3 = testing::TestConfig();
  rtmr3.boot_measurements.push_back({.rtmr = 3, .event = ToBytes("x")});
  r = SimTdxAttester::Create(w_.root, rtmr3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "sim.config.bad_measurement_register");

  SimTdxConfig lunal_at_boot = testing::TestConfig();
  lunal_at_boot.boot_measurements.push_back(
      {.rtmr = 2,
       .event =
           *tdx::EncodeLunalEvent({.type = tdx::LunalEventType::kInstanceId, .value = "i-1"})});
  r = SimTdxAttester::Create(w_.root, lunal_at_boot);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "attest.rtmr.lunal_event_not_rtmr3");

  SimTdxConfig owner = testing::TestConfig();
  owner.mr_owner = Bytes(47, 1);
  r = SimTdxAttester::Create(w_.root, owner);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "sim.config.bad_measurement");

  // The optional measurements land in the quote.
  SimTdxConfig full = testing::TestConfig();
  full.mr_config_id = Sha384Of("config");
  full.mr_owner = Sha384Of("owner");
  full.mr_owner_config = Sha384Of("owner config");
  r = SimTdxAttester::Create(w_.root, full);
  ASSERT_TRUE(r.ok()) << r.error();
  auto evidence = (*r)->Attest(ReportData(0));
  ASSERT_TRUE(evidence.ok());
  auto v = w_.verifier->Verify(evidence->quote, {.as_of = w_.clock.Now()});
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v->mr_config_id, full.mr_config_id);
  EXPECT_EQ(v->mr_owner, full.mr_owner);
  EXPECT_EQ(v->mr_owner_config, full.mr_owner_config);
}

TEST_F(SimTdx, ReloadedInstallationKeepsVerifying) {
  Evidence evidence = AttestOk(11);
  FakeClock later(w_.clock.Now() + std::chrono::hours(1));
  auto reopened = SimulationRoot::Open(w_.dir / "state", later);
  ASSERT_TRUE(reopened.ok());
  auto attester = SimTdxAttester::Create(*reopened, testing::TestConfig());
  ASSERT_TRUE(attester.ok());
  auto fresh = (*attester)->Attest(ReportData(11));
  ASSERT_TRUE(fresh.ok());
  // The verifier configured with the first Open's anchor accepts quotes of the reloaded one.
  for (const Bytes* quote : {&evidence.quote, &fresh->quote}) {
    auto v = w_.verifier->Verify(*quote, {.as_of = later.Now()});
    ASSERT_TRUE(v.ok()) << v.error();
    EXPECT_EQ(v->rtmr, w_.attester->Rtmrs());
  }
}

TEST_F(SimTdx, ConcurrentExtendAndAttestStayConsistent) {
  const tdx::LunalEvent id{.type = tdx::LunalEventType::kInstanceId, .value = "instance-1"};
  const Bytes lunal_event = *tdx::EncodeLunalEvent(id);
  const auto lunal_digest = crypto::Sha384(lunal_event);
  const Bytes event = ToBytes("a runtime measurement");
  const auto digest = crypto::Sha384(event);
  std::vector<Evidence> results[4];
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        if (t == 0) {
          EXPECT_TRUE(w_.attester->ExtendRtmr(2, digest, event).ok()) << "RTMR2";
        }
        if (t == 1) {
          EXPECT_TRUE(w_.attester->ExtendRtmr(3, lunal_digest, lunal_event).ok()) << "RTMR3";
        }
        auto e = w_.attester->Attest(ReportData(static_cast<std::uint8_t>(t * 10 + i)));
        if (e.ok()) results[t].push_back(*std::move(e));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::size_t checked = 0;
  for (const auto& list : results) {
    for (const Evidence& e : list) {
      auto v = w_.verifier->Verify(e.quote, {.as_of = w_.clock.Now()});
      ASSERT_TRUE(v.ok()) << v.error();
      auto check = tdx::CheckEventLog(*tdx::ParseEventLog(e.event_log), v->rtmr);
      ASSERT_TRUE(check.ok()) << check.error();
      EXPECT_TRUE(check->all_match);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 20u);
  EXPECT_EQ(tdx::ParseEventLog(w_.attester->EventLog())->events.size(),
            testing::TestConfig().boot_measurements.size() + 10);
}

}  // namespace
}  // namespace lunal::attest::sim
