// Runs the built `lunal` binary the way a user does and checks what it prints and returns.
#include <gtest/gtest.h>

#include "lunal/attest/tdx/quote.h"
#include "lunal/common/json.h"
#include "lunal/testing/testing.h"

namespace lunal {
namespace {

using testing::ProcessResult;
using testing::RunProcess;

ProcessResult Lunal(std::vector<std::string> args) {
  args.insert(args.begin(), (testing::BinaryDir() / "src/cli/lunal").string());
  return RunProcess(args);
}

TEST(LunalBinaryTest, VersionPrintsNameAndVersion) {
  auto r = Lunal({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("lunal 0.", 0), 0u) << r.out;
}

TEST(LunalBinaryTest, HelpListsCommandsAndEnvironment) {
  auto r = Lunal({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("attestation"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("LUNAL_API"), std::string::npos);
}

TEST(LunalBinaryTest, VerifyHelpTeachesUsage) {
  auto r = Lunal({"attestation", "verify", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* needle : {"--evidence", "--collateral", "--at", "--cert", "Examples:"}) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << needle << " missing from:\n" << r.out;
  }
}

TEST(LunalBinaryTest, MissingSubcommandIsAUsageError) {
  auto r = Lunal({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("[cli.usage]"), std::string::npos) << r.err;
}

TEST(LunalBinaryTest, UnknownFlagIsAUsageErrorInJsonToo) {
  auto r = Lunal({"attestation", "verify", "--evidence", "x", "--bogus", "--json"});
  EXPECT_EQ(r.exit_code, 2);
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  EXPECT_EQ((*j)["error"]["reason"], "cli.usage");
}

TEST(LunalBinaryTest, MissingEvidenceFileNamesTheFlagAndPath) {
  auto r = Lunal({"attestation", "verify", "--evidence", "/nonexistent/quote.dat"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: --evidence /nonexistent/quote.dat: no such file [cli.file_not_found]\n");
}

TEST(LunalBinaryTest, BadAsOfTimeIsRejectedWithPosition) {
  testing::TempDir dir;
  testing::WriteFile(dir / "q.dat", "x");
  auto r = Lunal({"attestation", "verify", "--evidence", (dir / "q.dat").string(), "--at",
                  "2026-03-31 22:25:04Z", "--json"});
  EXPECT_EQ(r.exit_code, 2);
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  EXPECT_EQ((*j)["error"]["reason"], "time.rfc3339.syntax");
  EXPECT_NE((*j)["error"]["message"].get<std::string>().find("--at: "), std::string::npos);
}

// Real evidence through the binary: the verdict, the record and the exit status a script sees.
class LunalVerifyTest : public ::testing::Test {
 protected:
  std::string Evidence(std::string_view path) {
    return (testing::SharedDir() / "evidence" / path).string();
  }
  std::string Collateral() { return Evidence("collateral/intel"); }
};

TEST_F(LunalVerifyTest, VerifiesARealQuoteAsOfItsTimeAndPrintsTheRecord) {
  auto r = Lunal({"attestation", "verify", "--evidence",
                  Evidence("go-tdx-guest/testing/testdata/quote_v5_sample.dat"), "--collateral",
                  Collateral(), "--at", "2026-03-31T22:20:07Z", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  EXPECT_EQ((*j)["status"], "verified");
  const Json& a = (*j)["attestation"];
  EXPECT_EQ(a["tee"]["type"], "tdx");
  EXPECT_EQ(a["tee"]["simulated"], false);
  EXPECT_EQ(a["measurements"]["mr_td"].get<std::string>().substr(0, 16), "7348651a34b2d2d3");
  EXPECT_EQ(a["platform_verification"]["tcb_status"], "UpToDate");
  EXPECT_EQ(a["platform_verification"]["verified_as_of"], "2026-03-31T22:20:07Z");
  EXPECT_EQ(a["id"].get<std::string>().rfind("att_", 0), 0u);
}

TEST_F(LunalVerifyTest, OutOfDateAndDebugVerifyButTheDefaultPolicyRejectsThem) {
  const std::string quote =
      Evidence("lunal-attestation-rs/crates/attestation/test_data/tdx_quote_4.dat");
  auto r = Lunal({"attestation", "verify", "--evidence", quote, "--collateral", Collateral(),
                  "--at", "2026-03-31T22:25:04Z"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("TCB status:        OutOfDate"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[policy.debug_forbidden]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[policy.tcb_status_not_accepted]"), std::string::npos) << r.out;

  // A policy that names the advisories and allows debug accepts the same quote.
  testing::TempDir dir;
  testing::WriteFile(dir / "policy.yaml",
                     "allow_debug: true\n"
                     "tcb:\n"
                     "  accepted_advisories: [INTEL-SA-00837, INTEL-SA-00960, INTEL-SA-00982,\n"
                     "    INTEL-SA-00986, INTEL-SA-01010, INTEL-SA-01036, INTEL-SA-01076,\n"
                     "    INTEL-SA-01079, INTEL-SA-01099, INTEL-SA-01103, INTEL-SA-01111]\n");
  auto accepted =
      Lunal({"attestation", "verify", "--evidence", quote, "--collateral", Collateral(), "--at",
             "2026-03-31T22:25:04Z", "--policy", (dir / "policy.yaml").string(), "--json"});
  EXPECT_EQ(accepted.exit_code, 0) << accepted.out << accepted.err;
  auto j = ParseJson(accepted.out);
  ASSERT_TRUE(j.ok()) << accepted.out;
  EXPECT_EQ((*j)["attestation"]["policy"]["result"], "pass");

  testing::WriteFile(dir / "typo.yaml", "allow_debugg: true\n");
  auto typo = Lunal({"attestation", "verify", "--evidence", quote, "--collateral", Collateral(),
                     "--policy", (dir / "typo.yaml").string()});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("typo.yaml:1:1"), std::string::npos) << typo.err;
  EXPECT_NE(typo.err.find("allow_debug"), std::string::npos) << typo.err;
}

TEST_F(LunalVerifyTest, TheDebugAllowedSnpReportFailsTheDefaultPolicy) {
  auto r = Lunal({"attestation", "verify", "--evidence",
                  Evidence("go-sev-guest/verify/testdata/attestation.bin"), "--cert",
                  Evidence("go-sev-guest/verify/testdata/vcek.testcer"), "--at",
                  "2026-03-25T12:55:28Z", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  EXPECT_EQ((*j)["status"], "rejected");
  EXPECT_EQ((*j)["attestation"]["policy"]["violations"][0]["reason"], "policy.debug_forbidden");
}

TEST_F(LunalVerifyTest, TodaySaysWhichCollateralExpiredWhen) {
  auto r = Lunal({"attestation", "verify", "--evidence",
                  Evidence("lunal-attestation-rs/crates/attestation/test_data/tdx_quote_4.dat"),
                  "--collateral", Collateral(), "--json"});
  EXPECT_EQ(r.exit_code, 1);
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  EXPECT_EQ((*j)["status"], "failed");
  EXPECT_EQ((*j)["error"]["reason"], "tdx.collateral.expired");
  EXPECT_NE((*j)["error"]["message"].get<std::string>().find("expired at 2026-04-15"),
            std::string::npos)
      << r.out;
}

TEST_F(LunalVerifyTest, NotSupportedTcbFails) {
  auto r = Lunal({"attestation", "verify", "--evidence",
                  Evidence("lunal-attestation-rs/crates/attestation/test_data/tdx_quote_5.dat"),
                  "--collateral", Collateral(), "--at", "2026-03-31T22:20:07Z"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("[tdx.tcb.not_supported]"), std::string::npos) << r.err;
}

TEST_F(LunalVerifyTest, AForgedQuoteFails) {
  testing::TempDir dir;
  Bytes quote = testing::ReadFileBytes(
      Evidence("lunal-attestation-rs/crates/attestation/test_data/tdx_quote_4.dat"));
  auto view = attest::tdx::ParseQuote(quote);
  ASSERT_TRUE(view.ok()) << view.error();
  quote[static_cast<std::size_t>(view->body.mr_td.data() - quote.data())] ^= 1;  // MRTD's 1st byte
  testing::WriteFile(dir / "forged.dat", AsStringView(quote));
  auto r = Lunal({"attestation", "verify", "--evidence", (dir / "forged.dat").string(),
                  "--collateral", Collateral(), "--at", "2026-03-31T22:25:04Z"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("[tdx.quote.signature_invalid]"), std::string::npos) << r.err;
}

TEST_F(LunalVerifyTest, EventLogThatReplaysToTheQuoteIsReported) {
  auto r = Lunal({"attestation", "verify", "--evidence",
                  Evidence("go-tdx-guest/testing/testdata/ccel/cos-113-tdx-quote.dat"),
                  "--collateral", Collateral(), "--at", "2025-10-01T00:34:24Z", "--event-log",
                  Evidence("go-tdx-guest/testing/testdata/ccel/ccel_data.dat"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  const Json& log = (*j)["attestation"]["event_log"];
  EXPECT_EQ(log["replayed"], true);
  EXPECT_EQ(log["all_match"], true);
  EXPECT_EQ(log["rtmr_match"], Json::array({true, true, true, true}));
}

TEST_F(LunalVerifyTest, EventLogOfAnotherTdFailsVerification) {
  auto r = Lunal({"attestation", "verify", "--evidence",
                  Evidence("go-tdx-guest/testing/testdata/ccel/cos-113-tdx-quote.dat"),
                  "--collateral", Collateral(), "--at", "2025-10-01T00:34:24Z", "--event-log",
                  Evidence("lunal-attestation-rs/crates/attestation/test_data/tdx_ccel_live2.dat"),
                  "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  EXPECT_EQ((*j)["error"]["reason"], "tdx.event_log.rtmr_mismatch");
}

TEST_F(LunalVerifyTest, CertFlagIsRefusedForTdx) {
  auto r =
      Lunal({"attestation", "verify", "--evidence",
             Evidence("lunal-attestation-rs/crates/attestation/test_data/tdx_quote_4.dat"),
             "--collateral", Collateral(), "--cert", Evidence("anchors/intel_sgx_root_ca.pem")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("[attestation.option_not_applicable]"), std::string::npos) << r.err;
}

TEST_F(LunalVerifyTest, VerifiesAnSnpReportWithItsVcek) {
  auto r = Lunal({"attestation", "verify", "--evidence",
                  Evidence("lunal-attestation-rs/crates/attestation/test_data/snp/test-report.bin"),
                  "--cert",
                  Evidence("lunal-attestation-rs/crates/attestation/test_data/snp/test-vcek.der"),
                  "--at", "2026-07-26T05:58:26Z", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  const Json& a = (*j)["attestation"];
  EXPECT_EQ(a["tee"]["type"], "snp");
  EXPECT_EQ(a["measurements"]["measurement"].get<std::string>().substr(0, 16), "a1f3930413247bb3");
  EXPECT_EQ(a["platform_verification"]["product"], "Milan");
}

TEST_F(LunalVerifyTest, AForgedVcekFailsAndSnpRefusesTdxFlags) {
  const std::string report =
      Evidence("lunal-attestation-rs/crates/attestation/test_data/snp/test-report.bin");
  auto forged = Lunal(
      {"attestation", "verify", "--evidence", report, "--cert",
       Evidence("lunal-attestation-rs/crates/attestation/test_data/snp/test-vcek-invalid-new.der"),
       "--at", "2027-02-16T02:27:09Z"});
  EXPECT_EQ(forged.exit_code, 1);
  EXPECT_NE(forged.err.find("[snp.chain.signature_invalid]"), std::string::npos) << forged.err;
  auto with_log = Lunal({"attestation", "verify", "--evidence", report, "--event-log",
                         Evidence("go-tdx-guest/testing/testdata/ccel/ccel_data.dat")});
  EXPECT_EQ(with_log.exit_code, 2);
  EXPECT_NE(with_log.err.find("[attestation.option_not_applicable]"), std::string::npos)
      << with_log.err;
}

TEST_F(LunalVerifyTest, MissingCollateralIsAUsageError) {
  auto r = Lunal({"attestation", "verify", "--evidence",
                  Evidence("lunal-attestation-rs/crates/attestation/test_data/tdx_quote_4.dat")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("[cli.no_collateral]"), std::string::npos) << r.err;
}

TEST_F(LunalVerifyTest, GarbageEvidenceNamesBothPlatformsTried) {
  testing::TempDir dir;
  testing::WriteFile(dir / "junk.txt", "not a quote at all");
  auto r = Lunal({"attestation", "verify", "--evidence", (dir / "junk.txt").string(),
                  "--collateral", Collateral()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("junk.txt"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("neither a TDX quote"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nor an SEV-SNP report"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[attestation.evidence_unrecognized]"), std::string::npos) << r.err;
}

TEST_F(LunalVerifyTest, AzureTdxEvidenceVerifiesWholeWithItsNonce) {
  const std::string evidence =
      Evidence("lunal-attestation-rs/crates/attestation/test_data/az_tdx/evidence-v1.json");
  // OutOfDate with three advisories: accepted only by a policy naming them.
  testing::TempDir dir;
  testing::WriteFile(
      dir / "policy.yaml",
      "tcb:\n  accepted_advisories: [INTEL-SA-00960, INTEL-SA-00982, INTEL-SA-00986]\n");
  auto r = Lunal({"attestation", "verify", "--evidence", evidence, "--collateral", Collateral(),
                  "--at", "2025-10-01T00:34:24Z", "--nonce", "6368616c6c656e6765", "--policy",
                  (dir / "policy.yaml").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  const Json& a = (*j)["attestation"];
  EXPECT_EQ(a["tee"]["type"], "tdx");
  EXPECT_EQ(a["tee"]["platform"], "azure");
  EXPECT_EQ(a["azure"]["vtpm_quote"]["nonce"], "6368616c6c656e6765");
  EXPECT_EQ(a["azure"]["runtime_data"]["bound_to_report_data"], true);

  auto wrong = Lunal({"attestation", "verify", "--evidence", evidence, "--collateral", Collateral(),
                      "--at", "2025-10-01T00:34:24Z", "--nonce", "00"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("[azure.tpm.nonce_mismatch]"), std::string::npos) << wrong.err;
}

TEST_F(LunalVerifyTest, AzureSnpWithAnotherVmsVcekFails) {
  const std::string dir = "lunal-attestation-rs/crates/attestation/test_data/az_snp/";
  auto good = Lunal({"attestation", "verify", "--evidence", Evidence(dir + "hcl-report.bin"),
                     "--cert", Evidence(dir + "vcek.pem"), "--at", "2026-11-01T09:22:19Z"});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(good.out.find("AMD SEV-SNP on Azure"), std::string::npos) << good.out;
  EXPECT_NE(good.out.find("is bound in REPORT_DATA"), std::string::npos) << good.out;
  auto r = Lunal({"attestation", "verify", "--evidence", Evidence(dir + "hcl-report.bin"), "--cert",
                  Evidence(dir + "imds-vcek.der"), "--at", "2028-07-24T19:38:01Z"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("[snp.report.signature_invalid]"), std::string::npos) << r.err;
  auto nonce =
      Lunal({"attestation", "verify", "--evidence",
             Evidence("lunal-attestation-rs/crates/attestation/test_data/snp/test-report.bin"),
             "--nonce", "00"});
  EXPECT_EQ(nonce.exit_code, 2);
  EXPECT_NE(nonce.err.find("[attestation.option_not_applicable]"), std::string::npos) << nonce.err;
}

}  // namespace
}  // namespace lunal
