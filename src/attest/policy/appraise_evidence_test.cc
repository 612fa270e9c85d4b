// Appraisal of REAL verified evidence from ../shared/evidence, at the as-of times of its README's
// "Expected results" table (the same files, pairings and times as ../snp/verify_test.cc and
// ../tdx/verify_test.cc):
//   SNP  go-sev-guest/verify/testdata/attestation.bin + vcek.testcer, 2026-03-25T12:55:28Z
//        (Milan, report v2, POLICY.DEBUG set)
//   TDX  lunal-attestation-rs/.../tdx_quote_4.dat with collateral/intel, 2026-03-31T22:25:04Z
//        (OutOfDate with 11 advisories, TD_ATTRIBUTES.DEBUG set)
// Policies are written as documents, as an operator would, and parsed with ParsePolicy.
#include <gtest/gtest.h>

#include "lunal/attest/policy/appraise.h"
#include "lunal/attest/snp/evidence_input.h"
#include "lunal/attest/snp/verify.h"
#include "lunal/attest/tdx/evidence_input.h"
#include "lunal/attest/tdx/verify.h"
#include "lunal/common/encoding.h"
#include "lunal/testing/testing.h"

namespace lunal::attest::policy {
namespace {

std::filesystem::path Evidence(std::string_view path) {
  return lunal::testing::SharedDir() / "evidence" / path;
}

Result<snp::SnpVerification> VerifySnpDebugReport() {
  Result<snp::DecodedReport> decoded = snp::DecodeReportContainer(
      lunal::testing::ReadFileBytes(Evidence("go-sev-guest/verify/testdata/attestation.bin")));
  if (!decoded.ok()) return decoded.error();
  snp::VerifyOptions options{.as_of = *ParseRfc3339("2026-03-25T12:55:28Z")};
  options.signing_cert =
      lunal::testing::ReadFileBytes(Evidence("go-sev-guest/verify/testdata/vcek.testcer"));
  return snp::VerifyReport(decoded->report, options);
}

Result<tdx::TdxVerification> VerifyTdxQuote4() {
  static const auto pool = tdx::CollateralPool::LoadDirectory(Evidence("collateral/intel"));
  if (!pool.ok()) return pool.error();
  Result<tdx::DecodedQuote> decoded = tdx::DecodeQuoteContainer(lunal::testing::ReadFileBytes(
      Evidence("lunal-attestation-rs/crates/attestation/test_data/tdx_quote_4.dat")));
  if (!decoded.ok()) return decoded.error();
  tdx::Verifier verifier(*pool);
  return verifier.Verify(decoded->quote, {.as_of = *ParseRfc3339("2026-03-31T22:25:04Z")});
}

std::vector<std::string> Reasons(const Appraisal& a) {
  std::vector<std::string> out;
  for (const Violation& v : a.violations) out.push_back(v.reason);
  return out;
}

Policy Parse(const std::string& yaml) {
  auto policy = ParsePolicy(yaml, "test-policy.yaml");
  EXPECT_TRUE(policy.ok()) << policy.error() << "\n" << yaml;
  return policy.ok() ? *policy : DefaultPolicy();
}

// tdx_quote_4.dat's registers, as `lunal attestation verify` prints them.
const std::pair<const char*, const char*> kQuote4Measurements[] = {
    {"mr_td",
     "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f"
     "031"},
    {"rtmr0",
     "e940da7c2712d2790e2961e00484f4fa8e6f9eed71361655ae22699476b14f9e63867eb41edd4b480fef0c59f496b"
     "288"},
    {"rtmr1",
     "559cfcf42716ed6c40a48a73d5acb7da255435012f0a9f00fbe8c1c57612ede486a5684c4c9ff3ddf52315fcdca3a"
     "596"},
    {"rtmr2",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000"},
    {"rtmr3",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000"},
    {"mr_config_id",
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000"},
};
// Its TCB's advisories (TCB Info evaluation data number 18, and the QE's).
const char* const kQuote4Advisories =
    "[INTEL-SA-00837, INTEL-SA-00960, INTEL-SA-00982, INTEL-SA-00986, INTEL-SA-01010, "
    "INTEL-SA-01036, INTEL-SA-01076, INTEL-SA-01079, INTEL-SA-01099, INTEL-SA-01103, "
    "INTEL-SA-01111]";
const char* const kSnpMeasurement =
    "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b"
    "01";

std::string FlipLastByte(std::string hex) {
  hex.back() = hex.back() == '0' ? '1' : '0';
  return hex;
}

TEST(AppraiseEvidenceTest, SnpClaimsComeFromTheVerifiedReport) {
  auto v = VerifySnpDebugReport();
  ASSERT_TRUE(v.ok()) << v.error();
  Claims c = ClaimsFrom(*v);
  EXPECT_EQ(c.tee, TeeType::kSnp);
  EXPECT_FALSE(c.simulated);
  EXPECT_TRUE(c.debug);
  EXPECT_EQ(HexEncode(c.measurements.at("measurement")), kSnpMeasurement);
  EXPECT_EQ(c.measurements.at("host_data"), Bytes(32, 0));
  EXPECT_FALSE(c.build_hash.has_value()) << "HOST_DATA is zero: no build hash";
  EXPECT_FALSE(c.tcb_status.has_value());
  ASSERT_TRUE(c.snp_tcb.has_value());
  EXPECT_EQ(c.snp_tcb->boot_loader, 2);
  EXPECT_EQ(c.snp_tcb->tee, 0);
  EXPECT_EQ(c.snp_tcb->snp, 5);
  EXPECT_EQ(c.snp_tcb->microcode, 68);
  EXPECT_FALSE(c.snp_tcb->fmc.has_value()) << "Milan";
  EXPECT_EQ(c.vmpl, 0u);
  EXPECT_EQ(c.guest_svn, 0u);
  EXPECT_EQ(HexEncode(c.report_data).substr(0, 12), "010203040500");
}

TEST(AppraiseEvidenceTest, SnpDebugReportFailsTheDefaultPolicyOnDebugOnly) {
  auto v = VerifySnpDebugReport();
  ASSERT_TRUE(v.ok()) << v.error();
  Appraisal a = Appraise(DefaultPolicy(), ClaimsFrom(*v));
  EXPECT_EQ(Reasons(a), std::vector<std::string>{"policy.debug_forbidden"});
  EXPECT_EQ(a.ToJson()["result"], "fail");
  EXPECT_EQ(a.ToJson()["violations"][0]["field"], "allow_debug");
  EXPECT_TRUE(Appraise(Parse("allow_debug: true"), ClaimsFrom(*v)).passed());
  EXPECT_EQ(Reasons(Appraise(Parse("tee_types: [tdx]\nallow_debug: true"), ClaimsFrom(*v))),
            std::vector<std::string>{"policy.tee_not_allowed"});
}

TEST(AppraiseEvidenceTest, SnpReferenceValuesAndMinimumTcb) {
  auto v = VerifySnpDebugReport();
  ASSERT_TRUE(v.ok()) << v.error();
  const Claims c = ClaimsFrom(*v);
  const std::string base = "allow_debug: true\nsnp:\n";
  const std::string good = base + "  reference_values:\n    measurement: [\"" +
                           std::string(kSnpMeasurement) + "\"]\n" +
                           "  min_tcb: {boot_loader: 2, tee: 0, snp: 5, microcode: 68, fmc: 9}\n";
  EXPECT_TRUE(Appraise(Parse(good), c).passed()) << Appraise(Parse(good), c).ToJson().dump();
  // One byte different: a mismatch naming the field and both values.
  const std::string bad =
      base + "  reference_values:\n    measurement: [\"" + FlipLastByte(kSnpMeasurement) + "\"]\n";
  Appraisal a = Appraise(Parse(bad), c);
  ASSERT_EQ(Reasons(a), std::vector<std::string>{"policy.measurement_mismatch"});
  EXPECT_EQ(a.violations[0].field, "snp.reference_values.measurement");
  EXPECT_EQ(a.violations[0].actual, kSnpMeasurement);
  // Microcode 68 is below 69; SNP SPL 5 below 6.
  Appraisal low = Appraise(Parse(base + "  min_tcb: {snp: 6, microcode: 69}\n"), c);
  EXPECT_EQ(Reasons(low), std::vector<std::string>(2, "policy.tcb_below_minimum"));
  // HOST_DATA is zero, so a policy that names builds finds none.
  EXPECT_EQ(
      Reasons(Appraise(
          Parse("allow_debug: true\nbuild_hashes: [\"sha256:" + std::string(64, '0') + "\"]\n"),
          c)),
      std::vector<std::string>{"policy.build_hash_missing"});
}

TEST(AppraiseEvidenceTest, TdxClaimsComeFromTheVerifiedQuote) {
  auto v = VerifyTdxQuote4();
  ASSERT_TRUE(v.ok()) << v.error();
  Claims c = ClaimsFrom(*v, "sha256:" + std::string(64, 'e'));
  EXPECT_EQ(c.tee, TeeType::kTdx);
  EXPECT_FALSE(c.simulated);
  EXPECT_TRUE(c.debug);
  for (const auto& [name, hex] : kQuote4Measurements) {
    EXPECT_EQ(HexEncode(c.measurements.at(name)), hex) << name;
  }
  EXPECT_EQ(c.build_hash, "sha256:" + std::string(64, 'e'));
  EXPECT_EQ(c.tcb_status, "OutOfDate");
  EXPECT_EQ(c.advisory_ids.size(), 11u);
  ASSERT_TRUE(c.tdx_tcb.has_value());
  EXPECT_EQ(HexEncode(c.tdx_tcb->tee_tcb_svn), "03000500000000000000000000000000");
  EXPECT_EQ(c.tdx_tcb->pce_svn, v->pck.pce_svn);
  EXPECT_EQ(c.tdx_tcb->qe_isv_svn, v->qe_isv_svn);
  EXPECT_EQ(c.report_data, v->report_data);
  EXPECT_FALSE(ClaimsFrom(*v).build_hash.has_value());
}

TEST(AppraiseEvidenceTest, TdxQuote4FailsTheDefaultPolicyOnDebugAndTcbStatus) {
  auto v = VerifyTdxQuote4();
  ASSERT_TRUE(v.ok()) << v.error();
  Appraisal a = Appraise(DefaultPolicy(), ClaimsFrom(*v));
  EXPECT_EQ(Reasons(a),
            (std::vector<std::string>{"policy.debug_forbidden", "policy.tcb_status_not_accepted"}));
  EXPECT_EQ(a.violations[1].actual, "OutOfDate");
  EXPECT_NE(a.violations[1].message.find("INTEL-SA-01111"), std::string::npos);
}

TEST(AppraiseEvidenceTest, NamingEveryAdvisoryAndAllowingDebugPasses) {
  auto v = VerifyTdxQuote4();
  ASSERT_TRUE(v.ok()) << v.error();
  const Claims c = ClaimsFrom(*v);
  const Policy p =
      Parse("allow_debug: true\ntcb:\n  accepted_advisories: " + std::string(kQuote4Advisories));
  Appraisal a = Appraise(p, c);
  EXPECT_TRUE(a.passed()) << a.ToJson().dump(2);
  EXPECT_EQ(a.ToJson(), Json::parse(R"({"result": "pass", "violations": []})"));
  // Debug still forbidden: only that.
  EXPECT_EQ(
      Reasons(Appraise(Parse("tcb:\n  accepted_advisories: " + std::string(kQuote4Advisories)), c)),
      std::vector<std::string>{"policy.debug_forbidden"});
  // One advisory left out: the status is not accepted, and the missing advisory is named.
  std::string all_but_last = kQuote4Advisories;
  all_but_last.replace(all_but_last.find(", INTEL-SA-01111"), 16, "");
  Appraisal missing =
      Appraise(Parse("allow_debug: true\ntcb:\n  accepted_advisories: " + all_but_last), c);
  ASSERT_EQ(Reasons(missing), (std::vector<std::string>{"policy.tcb_status_not_accepted",
                                                        "policy.advisory_not_accepted"}));
  EXPECT_EQ(missing.violations[1].actual, "INTEL-SA-01111");
}

std::string Quote4Policy(std::string_view changed_name) {
  std::string yaml =
      "allow_debug: true\ntcb:\n  accepted_advisories: " + std::string(kQuote4Advisories) +
      "\ntdx:\n  reference_values:\n";
  for (const auto& [name, hex] : kQuote4Measurements) {
    // Two accepted values each; the second is the real one unless this is the name to change.
    yaml += fmt::format("    {}: [\"{}\", \"{}\"]\n", name, std::string(96, 'f'),
                        name == changed_name ? FlipLastByte(hex) : std::string(hex));
  }
  return yaml;
}

TEST(AppraiseEvidenceTest, TdxReferenceValuesMatchExactlyAndOneByteOffFails) {
  auto v = VerifyTdxQuote4();
  ASSERT_TRUE(v.ok()) << v.error();
  const Claims c = ClaimsFrom(*v);
  Appraisal all_match = Appraise(Parse(Quote4Policy("")), c);
  EXPECT_TRUE(all_match.passed()) << all_match.ToJson().dump(2);
  for (const auto& [name, hex] : kQuote4Measurements) {
    Appraisal a = Appraise(Parse(Quote4Policy(name)), c);
    ASSERT_EQ(Reasons(a), std::vector<std::string>{"policy.measurement_mismatch"}) << name;
    EXPECT_EQ(a.violations[0].field, fmt::format("tdx.reference_values.{}", name));
    EXPECT_EQ(a.violations[0].actual, hex);
    EXPECT_EQ(a.violations[0].expected, Json::array({std::string(96, 'f'), FlipLastByte(hex)}));
  }
}

TEST(AppraiseEvidenceTest, TdxMinimumTcbReportDataAndBuildHash) {
  auto v = VerifyTdxQuote4();
  ASSERT_TRUE(v.ok()) << v.error();
  const std::string base =
      "allow_debug: true\ntcb:\n  accepted_advisories: " + std::string(kQuote4Advisories) + "\n";
  const Claims c = ClaimsFrom(*v);
  const std::string at = fmt::format(
      "tdx:\n  min_tcb: {{tee_tcb_svn: \"03000500000000000000000000000000\", pce_svn: {}, "
      "qe_isv_svn: {}}}\n",
      v->pck.pce_svn, v->qe_isv_svn);
  EXPECT_TRUE(Appraise(Parse(base + at), c).passed());
  const std::string above = fmt::format(
      "tdx:\n  min_tcb: {{tee_tcb_svn: \"03000600000000000000000000000000\", pce_svn: {}, "
      "qe_isv_svn: {}}}\n",
      v->pck.pce_svn + 1, v->qe_isv_svn + 1);
  Appraisal low = Appraise(Parse(base + above), c);
  EXPECT_EQ(Reasons(low), std::vector<std::string>(3, "policy.tcb_below_minimum"));

  const std::string rd = HexEncode(v->report_data);
  EXPECT_TRUE(Appraise(Parse(base + "report_data: {expected: \"" + rd + "\"}\n"), c).passed());
  EXPECT_EQ(
      Reasons(Appraise(Parse(base + "report_data: {expected: \"" + FlipLastByte(rd) + "\"}\n"), c)),
      std::vector<std::string>{"policy.report_data_mismatch"});
  const Policy nonce = Parse(base + "report_data: {mode: nonce}\n");
  EXPECT_EQ(Reasons(Appraise(nonce, c)), std::vector<std::string>{"policy.report_data_unbound"});
  EXPECT_TRUE(Appraise(nonce, c, {.nonce_report_data = v->report_data}).passed());

  // The quote came without an event log: a policy that names builds finds none.
  const std::string build = base + "build_hashes: [\"sha256:" + std::string(64, 'e') + "\"]\n";
  EXPECT_EQ(Reasons(Appraise(Parse(build), c)),
            std::vector<std::string>{"policy.build_hash_missing"});
  EXPECT_TRUE(Appraise(Parse(build), ClaimsFrom(*v, "sha256:" + std::string(64, 'e'))).passed());
  EXPECT_EQ(Reasons(Appraise(Parse(build), ClaimsFrom(*v, "sha256:" + std::string(64, 'd')))),
            std::vector<std::string>{"policy.build_hash_mismatch"});
}

}  // namespace
}  // namespace lunal::attest::policy
