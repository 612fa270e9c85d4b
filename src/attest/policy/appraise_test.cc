// Appraise over hand-made claims: each rule alone, then every rule at once (all reported).
#include "lunal/attest/policy/appraise.h"

#include <gtest/gtest.h>

#include "lunal/common/encoding.h"

namespace lunal::attest::policy {
namespace {

Bytes Filled(std::size_t n, std::uint8_t v) { return Bytes(n, v); }

Claims GoodTdx() {
  Claims c;
  c.tee = TeeType::kTdx;
  for (const auto& m : MeasurementNames(TeeType::kTdx)) {
    c.measurements[std::string(m.name)] = Filled(m.size, 0x11);
  }
  c.build_hash = "sha256:" + std::string(64, 'b');
  c.tcb_status = "UpToDate";
  c.tdx_tcb = TdxTcbClaims{.tee_tcb_svn = {3, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                           .pce_svn = 13,
                           .qe_isv_svn = 8};
  c.report_data = Filled(64, 0x22);
  return c;
}

Claims GoodSnp() {
  Claims c;
  c.tee = TeeType::kSnp;
  c.measurements = {{"measurement", Filled(48, 0x33)}, {"host_data", Filled(32, 0x44)}};
  c.build_hash = "sha256:" + HexEncode(Filled(32, 0x44));
  c.snp_tcb =
      SnpTcbClaims{.fmc = std::nullopt, .boot_loader = 3, .tee = 0, .snp = 14, .microcode = 209};
  c.vmpl = 0;
  c.guest_svn = 2;
  c.report_data = Filled(64, 0x55);
  return c;
}

std::vector<std::string> Reasons(const Appraisal& a) {
  std::vector<std::string> out;
  for (const Violation& v : a.violations) out.push_back(v.reason);
  return out;
}

TEST(AppraiseTest, GoodClaimsPassTheDefaultPolicy) {
  for (const Claims& c : {GoodTdx(), GoodSnp()}) {
    Appraisal a = Appraise(DefaultPolicy(), c);
    EXPECT_TRUE(a.passed()) << a.ToJson().dump();
    EXPECT_EQ(a.ToJson(), Json::parse(R"({"result": "pass", "violations": []})"));
  }
}

TEST(AppraiseTest, TeeSimulatedAndDebug) {
  Policy p = DefaultPolicy();
  p.allowed_tee_types = {TeeType::kSnp};
  Claims c = GoodTdx();
  c.simulated = true;
  c.debug = true;
  Appraisal a = Appraise(p, c);
  EXPECT_EQ(Reasons(a),
            (std::vector<std::string>{"policy.tee_not_allowed", "policy.simulated_forbidden",
                                      "policy.debug_forbidden"}));
  EXPECT_EQ(a.violations[0].field, "tee_types");
  EXPECT_EQ(a.violations[0].actual, "tdx");
  EXPECT_EQ(a.violations[0].expected, Json::array({"snp"}));
  EXPECT_EQ(a.violations[2].field, "allow_debug");
  p.allow_simulated = true;
  p.allow_debug = true;
  p.allowed_tee_types = {TeeType::kTdx};
  EXPECT_TRUE(Appraise(p, c).passed());
}

TEST(AppraiseTest, MeasurementsMatchAnyListedValueExactly) {
  Policy p = DefaultPolicy();
  p.tdx.reference_values["mr_td"] = {Filled(48, 0x99), Filled(48, 0x11)};
  p.tdx.reference_values["rtmr3"] = {Filled(48, 0x11)};
  p.tdx.reference_values["rtmr0"] = {};  // empty: anything
  Claims c = GoodTdx();
  EXPECT_TRUE(Appraise(p, c).passed());
  c.measurements["rtmr3"][47] ^= 1;
  Appraisal a = Appraise(p, c);
  ASSERT_EQ(Reasons(a), (std::vector<std::string>{"policy.measurement_mismatch"}));
  EXPECT_EQ(a.violations[0].field, "tdx.reference_values.rtmr3");
  EXPECT_EQ(a.violations[0].actual, HexEncode(c.measurements["rtmr3"]));
  EXPECT_EQ(a.violations[0].expected, Json::array({HexEncode(Filled(48, 0x11))}));
  c.measurements.erase("mr_td");
  EXPECT_TRUE(Appraise(p, c).Has("policy.measurement_missing"));
  // TDX reference values do not apply to SNP claims, and the reverse.
  Policy snp_only = DefaultPolicy();
  snp_only.snp.reference_values["measurement"] = {Filled(48, 0x00)};
  EXPECT_TRUE(Appraise(snp_only, GoodTdx()).passed());
  EXPECT_TRUE(Appraise(snp_only, GoodSnp()).Has("policy.measurement_mismatch"));
}

TEST(AppraiseTest, BuildHash) {
  Policy p = DefaultPolicy();
  p.build_hashes = {"sha256:" + std::string(64, 'b')};
  Claims c = GoodTdx();
  EXPECT_TRUE(Appraise(p, c).passed());
  c.build_hash = "sha256:" + std::string(64, 'B');  // compared by value, not by letter case
  EXPECT_TRUE(Appraise(p, c).passed());
  c.build_hash = "sha256:" + std::string(63, 'b') + "c";
  EXPECT_EQ(Reasons(Appraise(p, c)), (std::vector<std::string>{"policy.build_hash_mismatch"}));
  c.build_hash.reset();
  EXPECT_EQ(Reasons(Appraise(p, c)), (std::vector<std::string>{"policy.build_hash_missing"}));
}

TEST(AppraiseTest, TcbStatusAndAdvisories) {
  Policy p = DefaultPolicy();
  Claims c = GoodTdx();
  c.tcb_status = "SWHardeningNeeded";
  c.advisory_ids = {"INTEL-SA-00615"};
  EXPECT_TRUE(Appraise(p, c).passed());
  c.tcb_status = "ConfigurationNeeded";
  EXPECT_EQ(Reasons(Appraise(p, c)), (std::vector<std::string>{"policy.tcb_status_not_accepted"}));
  p.accepted_tcb_statuses.push_back("ConfigurationNeeded");
  EXPECT_TRUE(Appraise(p, c).passed());

  c.tcb_status = "OutOfDate";
  c.advisory_ids = {"INTEL-SA-00837", "INTEL-SA-00960"};
  Appraisal none_named = Appraise(p, c);
  EXPECT_EQ(Reasons(none_named), (std::vector<std::string>{"policy.tcb_status_not_accepted"}));
  EXPECT_NE(none_named.violations[0].message.find("INTEL-SA-00837, INTEL-SA-00960"),
            std::string::npos)
      << none_named.violations[0].message;
  p.accepted_advisories = {"INTEL-SA-00837", "INTEL-SA-00001"};
  Appraisal one_named = Appraise(p, c);
  ASSERT_EQ(Reasons(one_named), (std::vector<std::string>{"policy.tcb_status_not_accepted",
                                                          "policy.advisory_not_accepted"}));
  EXPECT_EQ(one_named.violations[1].actual, "INTEL-SA-00960");
  EXPECT_EQ(one_named.violations[1].field, "tcb.accepted_advisories");
  p.accepted_advisories = {"INTEL-SA-00960", "INTEL-SA-00837", "INTEL-SA-00000"};
  EXPECT_TRUE(Appraise(p, c).passed());
  // An OutOfDate result with no advisories names nothing the policy could accept.
  c.advisory_ids.clear();
  EXPECT_EQ(Reasons(Appraise(p, c)), (std::vector<std::string>{"policy.tcb_status_not_accepted"}));
  // Revoked is never accepted, whatever the advisories.
  c.tcb_status = "Revoked";
  c.advisory_ids = {"INTEL-SA-00837"};
  EXPECT_EQ(Reasons(Appraise(p, c)), (std::vector<std::string>{"policy.tcb_status_not_accepted"}));
  // SNP claims have no status: not judged by status.
  EXPECT_TRUE(Appraise(p, GoodSnp()).passed());
}

TEST(AppraiseTest, TdxMinimumTcb) {
  Policy p = DefaultPolicy();
  p.tdx.min_tee_tcb_svn = Bytes{3, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  p.tdx.min_pce_svn = 13;
  p.tdx.min_qe_isv_svn = 8;
  Claims c = GoodTdx();
  EXPECT_TRUE(Appraise(p, c).passed());
  c.tdx_tcb->tee_tcb_svn[2] = 4;  // one component below, though byte 0 is higher
  c.tdx_tcb->tee_tcb_svn[0] = 9;
  c.tdx_tcb->pce_svn = 12;
  c.tdx_tcb->qe_isv_svn = 7;
  Appraisal a = Appraise(p, c);
  ASSERT_EQ(Reasons(a), (std::vector<std::string>(3, "policy.tcb_below_minimum")));
  EXPECT_EQ(a.violations[0].field, "tdx.min_tcb.tee_tcb_svn");
  EXPECT_NE(a.violations[0].message.find("byte 2 is 4 < 5"), std::string::npos)
      << a.violations[0].message;
  EXPECT_EQ(a.violations[1].field, "tdx.min_tcb.pce_svn");
  EXPECT_EQ(a.violations[1].actual, 12);
  EXPECT_EQ(a.violations[2].field, "tdx.min_tcb.qe_isv_svn");
}

TEST(AppraiseTest, SnpMinimumTcbVmplAndGuestSvn) {
  Policy p = DefaultPolicy();
  p.snp.min_tcb = {.boot_loader = 3, .tee = 0, .snp = 15, .microcode = 210, .fmc = 1};
  p.snp.min_guest_svn = 3;
  Claims c = GoodSnp();
  c.vmpl = 1;
  Appraisal a = Appraise(p, c);
  // fmc: a Genoa report has none, so its minimum does not apply.
  ASSERT_EQ(Reasons(a), (std::vector<std::string>{
                            "policy.tcb_below_minimum", "policy.tcb_below_minimum",
                            "policy.vmpl_not_allowed", "policy.guest_svn_below_minimum"}));
  EXPECT_EQ(a.violations[0].field, "snp.min_tcb.snp");
  EXPECT_EQ(a.violations[1].field, "snp.min_tcb.microcode");
  EXPECT_EQ(a.violations[2].actual, 1);
  c.snp_tcb->fmc = 0;  // Turin
  EXPECT_TRUE(Appraise(p, c).Has("policy.tcb_below_minimum"));
  p.snp.max_vmpl = 1;
  p.snp.min_tcb = {};
  p.snp.min_guest_svn = 2;
  EXPECT_TRUE(Appraise(p, c).passed()) << Appraise(p, c).ToJson().dump();
}

TEST(AppraiseTest, ReportDataExactAndNonce) {
  Policy p = DefaultPolicy();
  p.report_data = {.mode = ReportDataRule::Mode::kExact, .expected = Filled(64, 0x22)};
  Claims c = GoodTdx();
  EXPECT_TRUE(Appraise(p, c).passed());
  c.report_data[63] ^= 0x80;
  EXPECT_EQ(Reasons(Appraise(p, c)), (std::vector<std::string>{"policy.report_data_mismatch"}));

  p.report_data = {.mode = ReportDataRule::Mode::kNonce, .expected = {}};
  EXPECT_EQ(Reasons(Appraise(p, c)), (std::vector<std::string>{"policy.report_data_unbound"}));
  EXPECT_TRUE(Appraise(p, c, {.nonce_report_data = c.report_data}).passed());
  EXPECT_TRUE(
      Appraise(p, c, {.nonce_report_data = Filled(64, 0x22)}).Has("policy.report_data_mismatch"));
}

TEST(AppraiseTest, ReportsEveryViolationInTheRecordShape) {
  Policy p = DefaultPolicy();
  p.allowed_tee_types = {TeeType::kTdx};
  p.snp.reference_values["measurement"] = {Filled(48, 0)};
  p.build_hashes = {"sha256:" + std::string(64, '0')};
  p.snp.min_tcb.microcode = 255;
  p.report_data = {.mode = ReportDataRule::Mode::kExact, .expected = Filled(64, 0)};
  Claims c = GoodSnp();
  c.debug = true;
  c.simulated = true;
  c.vmpl = 2;
  Json j = Appraise(p, c).ToJson();
  EXPECT_EQ(j["result"], "fail");
  std::vector<std::string> reasons;
  for (const Json& v : j["violations"]) {
    reasons.push_back(v["reason"]);
    for (const char* key : {"reason", "field", "expected", "actual", "message"}) {
      EXPECT_TRUE(v.contains(key)) << key << " in " << v.dump();
    }
    EXPECT_FALSE(v["message"].get<std::string>().empty());
  }
  EXPECT_EQ(reasons,
            (std::vector<std::string>{"policy.tee_not_allowed", "policy.simulated_forbidden",
                                      "policy.debug_forbidden", "policy.measurement_mismatch",
                                      "policy.build_hash_mismatch", "policy.tcb_below_minimum",
                                      "policy.vmpl_not_allowed", "policy.report_data_mismatch"}));
}

}  // namespace
}  // namespace lunal::attest::policy
