// Runs the built `lunal` binary the way a user does and checks what it prints and returns.
#include <gtest/gtest.h>

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
  EXPECT_EQ(r.err,
            "error: --evidence /nonexistent/quote.dat: no such file [cli.file_not_found]\n");
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

}  // namespace
}  // namespace lunal
