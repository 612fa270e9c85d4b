// `lunal sign` and `lunal signature verify` end to end: the built binary, the real ssh-keygen.
#include <gtest/gtest.h>

#include "lunal/common/json.h"
#include "lunal/testing/testing.h"

namespace lunal::sign {
namespace {

using lunal::testing::ProcessResult;
using lunal::testing::ReadFileText;
using lunal::testing::RunProcess;
using lunal::testing::TempDir;
using lunal::testing::WriteFile;

ProcessResult Lunal(std::vector<std::string> args) {
  args.insert(args.begin(), (lunal::testing::BinaryDir() / "src/cli/lunal").string());
  return RunProcess(args);
}

class SignCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!lunal::testing::HaveProgram("ssh-keygen")) GTEST_SKIP() << "ssh-keygen not installed";
    auto gen = RunProcess({"ssh-keygen", "-q", "-N", "", "-t", "ecdsa", "-b", "384", "-C", "ci",
                           "-f", (dir_ / "id").string()});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    WriteFile(dir_ / "hash.txt", "sha256:0123\n");
    WriteFile(dir_ / "allowed_signers",
              "dev@example.com namespaces=\"lunal\" " + ReadFileText(dir_ / "id.pub"));
    auto listed = RunProcess({"ssh-keygen", "-l", "-f", (dir_ / "id.pub").string()});
    ASSERT_EQ(listed.exit_code, 0);
    fingerprint_ = listed.out.substr(4, listed.out.find(' ', 4) - 4);  // "384 SHA256:..."
  }
  std::vector<std::string> VerifyArgs(const std::string& identity) {
    return {"signature",         "verify",
            "--hash-file",       (dir_ / "hash.txt").string(),
            "--signature",       (dir_ / "hash.txt.sig").string(),
            "--allowed-signers", (dir_ / "allowed_signers").string(),
            "--identity",        identity};
  }
  TempDir dir_;
  std::string fingerprint_;
};

TEST_F(SignCli, SignThenVerifyBothWays) {
  auto signed_run = Lunal({"sign", "--hash-file", (dir_ / "hash.txt").string(), "--key",
                           (dir_ / "id").string(), "--json"});
  ASSERT_EQ(signed_run.exit_code, 0) << signed_run.out << signed_run.err;
  auto out = ParseJson(signed_run.out);
  ASSERT_TRUE(out.ok()) << signed_run.out;
  EXPECT_EQ((*out)["signature"], (dir_ / "hash.txt.sig").string());
  EXPECT_EQ((*out)["key_id"]["fingerprint"], fingerprint_);
  EXPECT_EQ((*out)["key_id"]["bits"], 384);
  EXPECT_EQ((*out)["signature_type"], "ecdsa-sha2-nistp384");

  // ssh-keygen accepts what `lunal sign` wrote.
  lunal::testing::ProcessOptions stdin_hash;
  stdin_hash.stdin_data = "sha256:0123\n";
  auto theirs =
      RunProcess({"ssh-keygen", "-Y", "verify", "-f", (dir_ / "allowed_signers").string(), "-I",
                  "dev@example.com", "-n", "lunal", "-s", (dir_ / "hash.txt.sig").string()},
                 stdin_hash);
  EXPECT_EQ(theirs.exit_code, 0) << theirs.err;

  auto ok = Lunal(VerifyArgs("dev@example.com"));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("verified:"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("384 " + fingerprint_ + " (ECDSA)"), std::string::npos) << ok.out;

  auto args = VerifyArgs("eve@example.com");
  args.push_back("--json");
  auto refused = Lunal(args);
  EXPECT_EQ(refused.exit_code, 1);
  auto err = ParseJson(refused.out);
  ASSERT_TRUE(err.ok()) << refused.out;
  EXPECT_EQ((*err)["error"]["reason"], "sign.signer.not_allowed");
  EXPECT_EQ((*err)["key_id"]["fingerprint"], fingerprint_);

  WriteFile(dir_ / "hash.txt", "sha256:0124\n");
  auto changed = Lunal(VerifyArgs("dev@example.com"));
  EXPECT_EQ(changed.exit_code, 1);
  EXPECT_NE(changed.err.find("[sign.sshsig.signature.invalid]"), std::string::npos) << changed.err;
}

TEST_F(SignCli, BadInputsAreUsageErrors) {
  WriteFile(dir_ / "hash.txt.sig", "not a signature\n");
  auto malformed = Lunal(VerifyArgs("dev@example.com"));
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find("[sign.sshsig.armor.missing_begin]"), std::string::npos)
      << malformed.err;

  WriteFile(dir_ / "allowed_signers",
            "dev@example.com cert-authority " + ReadFileText(dir_ / "id.pub"));
  auto ca = Lunal(VerifyArgs("dev@example.com"));
  EXPECT_EQ(ca.exit_code, 2);
  EXPECT_NE(ca.err.find("allowed_signers:1:17: cert-authority"), std::string::npos) << ca.err;

  auto missing_flag = Lunal({"signature", "verify", "--hash-file", "x"});
  EXPECT_EQ(missing_flag.exit_code, 2);
  auto no_file =
      Lunal({"sign", "--hash-file", (dir_ / "absent").string(), "--key", (dir_ / "id").string()});
  EXPECT_EQ(no_file.exit_code, 5) << no_file.err;
}

}  // namespace
}  // namespace lunal::sign
