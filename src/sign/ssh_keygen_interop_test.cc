// Interoperability with the real OpenSSH ssh-keygen, both directions, for Ed25519, ECDSA P-256,
// ECDSA P-384 and RSA-3072 keys.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "lunal/common/encoding.h"
#include "lunal/sign/allowed_signers.h"
#include "lunal/sign/signer.h"
#include "lunal/testing/testing.h"
#include "test_util.h"

namespace lunal::sign {
namespace {

using lunal::testing::ProcessOptions;
using lunal::testing::ReadFileText;
using lunal::testing::RunProcess;
using lunal::testing::TempDir;
using lunal::testing::WriteFile;

const Timestamp kNow = FromUnixSeconds(1767225600);
constexpr std::string_view kIdentity = "dev@example.com";
constexpr std::string_view kMessage =
    "4f7c0a0e9b1d5e8d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d\n";

struct KeyCase {
  std::string name;
  std::vector<std::string> keygen_args;
  std::string key_type;        // in the .pub file
  std::string signature_type;  // what ssh-keygen -Y sign produces
  int bits;
  std::string id_type;
};

class SshKeygenInterop : public ::testing::TestWithParam<KeyCase> {
 protected:
  void SetUp() override {
    if (!lunal::testing::HaveProgram("ssh-keygen")) GTEST_SKIP() << "ssh-keygen not installed";
    key_ = dir_ / "id";
    other_key_ = dir_ / "other";
    for (const auto& path : {key_, other_key_}) {
      std::vector<std::string> argv = {"ssh-keygen",      "-q", "-N",         "", "-C",
                                       "dev@example.com", "-f", path.string()};
      argv.insert(argv.end(), GetParam().keygen_args.begin(), GetParam().keygen_args.end());
      auto gen = RunProcess(argv);
      ASSERT_EQ(gen.exit_code, 0) << gen.err;
    }
    pub_ = ReadFileText(dir_ / "id.pub");
    allowed_ = dir_ / "allowed_signers";
    WriteFile(allowed_, "# test\n" + std::string(kIdentity) + " namespaces=\"lunal\" " + pub_);
    file_ = dir_ / "hash.txt";
    WriteFile(file_, kMessage);
  }

  // ssh-keygen -Y sign, as a developer would run it.
  std::string TheirSign(const std::string& ns, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"ssh-keygen", "-Y", "sign", "-f", key_.string(), "-n", ns};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(file_.string());
    std::filesystem::remove(file_.string() + ".sig");  // ssh-keygen would ask before replacing
    auto run = RunProcess(argv);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return ReadFileText(file_.string() + ".sig");
  }

  // ssh-keygen -Y verify's exit code.
  int TheirVerify(const std::string& sig, std::string_view message,
                  const std::filesystem::path& allowed, std::string_view identity,
                  std::string_view ns) {
    WriteFile(dir_ / "check.sig", sig);
    ProcessOptions options;
    options.stdin_data = std::string(message);
    auto run = RunProcess(
        {"ssh-keygen", "-Y", "verify", "-f", allowed.string(), "-I", std::string(identity), "-n",
         std::string(ns), "-s", (dir_ / "check.sig").string()},
        options);
    return run.exit_code;
  }

  Result<VerifiedSignature> OurVerify(const std::string& sig, std::string_view message,
                                      std::string_view identity = kIdentity,
                                      std::string_view ns = kLunalNamespace) {
    auto signers = AllowedSigners::Load(allowed_.string());
    if (!signers.ok()) return std::move(signers).error();
    return VerifyWithAllowedSigners(AsBytes(message), sig, *signers, identity, ns, kNow);
  }

  std::filesystem::path OtherSigners() {
    auto path = dir_ / "other_signers";
    WriteFile(path, std::string(kIdentity) + " " + ReadFileText(dir_ / "other.pub"));
    return path;
  }

  TempDir dir_;
  std::filesystem::path key_, other_key_, allowed_, file_;
  std::string pub_;
};

// The failure reason, or "ok".
template <typename T>
std::string Reason(const Result<T>& result) {
  return result.ok() ? "ok" : result.error().reason();
}

// Flips one byte inside the inner signature (the last bytes of the blob) and re-armors.
std::string FlipSignatureByte(const std::string& armored) {
  std::string body = armored.substr(armored.find('\n') + 1);
  body = body.substr(0, body.find("-----END"));
  Bytes blob = *Base64Decode(body, {.alphabet = Base64Alphabet::kStandard,
                                    .padding = Base64DecodeOptions::Padding::kRequired,
                                    .ignore_whitespace = true});
  blob[blob.size() - 5] ^= 0x40;
  return test::Armor(blob);
}

TEST_P(SshKeygenInterop, KeyIdMatchesSshKeygenL) {
  auto key = SshPublicKey::FromOpenSshLine(pub_);
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(SshKeyTypeName(key->type()), GetParam().key_type);
  auto listed = RunProcess({"ssh-keygen", "-l", "-f", (dir_ / "id.pub").string()});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  // "<bits> SHA256:<fp> <comment> (<TYPE>)\n"
  KeyId id = key->Id();
  EXPECT_EQ(listed.out,
            fmt::format("{} {} dev@example.com ({})\n", id.bits, id.fingerprint, id.type));
  EXPECT_EQ(id.bits, GetParam().bits);
  EXPECT_EQ(id.type, GetParam().id_type);
}

TEST_P(SshKeygenInterop, TheirSignatureVerifiesWithUs) {
  std::string sig = TheirSign("lunal");
  auto verified = OurVerify(sig, kMessage);
  ASSERT_TRUE(verified.ok()) << verified.error();
  EXPECT_EQ(verified->key_type, GetParam().key_type);
  EXPECT_EQ(verified->signature_type, GetParam().signature_type);
  EXPECT_EQ(verified->hash_algorithm, "sha512");
  EXPECT_EQ(verified->allowed_signers_line, 2);
  EXPECT_EQ(verified->key_id.fingerprint, SshPublicKey::FromOpenSshLine(pub_)->Id().fingerprint);

  // The other hash ssh-keygen offers.
  std::string sig256 = TheirSign("lunal", {"-O", "hashalg=sha256"});
  auto verified256 = OurVerify(sig256, kMessage);
  ASSERT_TRUE(verified256.ok()) << verified256.error();
  EXPECT_EQ(verified256->hash_algorithm, "sha256");
}

TEST_P(SshKeygenInterop, TheirBadSignaturesFailWithUs) {
  std::string sig = TheirSign("lunal");
  std::string changed(kMessage);
  changed[0] = '5';
  EXPECT_EQ(Reason(OurVerify(sig, changed)), "sign.sshsig.signature.invalid");
  EXPECT_EQ(Reason(OurVerify(sig, kMessage, "eve@example.com")), "sign.signer.not_allowed");
  EXPECT_EQ(Reason(OurVerify(FlipSignatureByte(sig), kMessage)), "sign.sshsig.signature.invalid");
  auto others = *AllowedSigners::Load(OtherSigners().string());
  EXPECT_EQ(
      Reason(VerifyWithAllowedSigners(AsBytes(kMessage), sig, others, kIdentity, "lunal", kNow)),
      "sign.signer.not_allowed");
  std::string git_sig = TheirSign("git");
  EXPECT_EQ(Reason(OurVerify(git_sig, kMessage)), "sign.sshsig.namespace.mismatch");
  // Asked to verify for "git", the allowed_signers entry (namespaces="lunal") refuses it.
  EXPECT_EQ(Reason(OurVerify(git_sig, kMessage, kIdentity, "git")),
            "sign.signer.namespace_not_allowed");
}

TEST_P(SshKeygenInterop, OurSignatureVerifiesWithThem) {
  auto signed_file = SignFileWithSshKeygen(file_.string(), {.key_path = key_.string()});
  ASSERT_TRUE(signed_file.ok()) << signed_file.error();
  EXPECT_EQ(signed_file->signature_path, file_.string() + ".sig");
  EXPECT_EQ(signed_file->key_id.fingerprint, SshPublicKey::FromOpenSshLine(pub_)->Id().fingerprint);
  EXPECT_EQ(signed_file->signature_type, GetParam().signature_type);
  std::string sig = ReadFileText(signed_file->signature_path);
  EXPECT_EQ(TheirVerify(sig, kMessage, allowed_, kIdentity, "lunal"), 0);

  // Signing again replaces the .sig file.
  auto again = SignFileWithSshKeygen(file_.string(), {.key_path = key_.string()});
  ASSERT_TRUE(again.ok()) << again.error();
}

TEST_P(SshKeygenInterop, OurBadSignaturesFailWithThem) {
  auto signed_file = SignFileWithSshKeygen(file_.string(), {.key_path = key_.string()});
  ASSERT_TRUE(signed_file.ok()) << signed_file.error();
  std::string sig = ReadFileText(signed_file->signature_path);
  std::string changed(kMessage);
  changed[0] = '5';
  EXPECT_NE(TheirVerify(sig, changed, allowed_, kIdentity, "lunal"), 0);
  EXPECT_NE(TheirVerify(sig, kMessage, allowed_, kIdentity, "git"), 0);
  EXPECT_NE(TheirVerify(sig, kMessage, allowed_, "eve@example.com", "lunal"), 0);
  EXPECT_NE(TheirVerify(sig, kMessage, OtherSigners(), kIdentity, "lunal"), 0);
  EXPECT_NE(TheirVerify(FlipSignatureByte(sig), kMessage, allowed_, kIdentity, "lunal"), 0);
  // The control: the unchanged inputs pass, so the failures above are the mutations'.
  EXPECT_EQ(TheirVerify(sig, kMessage, allowed_, kIdentity, "lunal"), 0);

  // A different namespace through our signer: ssh-keygen refuses it for "lunal".
  auto git =
      SignFileWithSshKeygen(file_.string(), {.key_path = key_.string(), .namespace_ = "git"});
  ASSERT_TRUE(git.ok()) << git.error();
  EXPECT_NE(TheirVerify(ReadFileText(git->signature_path), kMessage, allowed_, kIdentity, "lunal"),
            0);
}

INSTANTIATE_TEST_SUITE_P(
    Keys, SshKeygenInterop,
    ::testing::Values(
        KeyCase{"ed25519", {"-t", "ed25519"}, "ssh-ed25519", "ssh-ed25519", 256, "ED25519"},
        KeyCase{"ecdsa_p256",
                {"-t", "ecdsa", "-b", "256"},
                "ecdsa-sha2-nistp256",
                "ecdsa-sha2-nistp256",
                256,
                "ECDSA"},
        KeyCase{"ecdsa_p384",
                {"-t", "ecdsa", "-b", "384"},
                "ecdsa-sha2-nistp384",
                "ecdsa-sha2-nistp384",
                384,
                "ECDSA"},
        KeyCase{"rsa_3072", {"-t", "rsa", "-b", "3072"}, "ssh-rsa", "rsa-sha2-512", 3072, "RSA"}),
    [](const ::testing::TestParamInfo<KeyCase>& key_case) { return key_case.param.name; });

// The same allowed_signers options give the same decision here and in ssh-keygen -Y verify.
TEST(SshKeygenAllowedSigners, OptionsDecideAlike) {
  if (!lunal::testing::HaveProgram("ssh-keygen")) GTEST_SKIP() << "ssh-keygen not installed";
  TempDir dir;
  auto gen =
      RunProcess({"ssh-keygen", "-q", "-N", "", "-t", "ed25519", "-f", (dir / "id").string()});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  std::string pub = ReadFileText(dir / "id.pub");
  WriteFile(dir / "m", kMessage);
  auto sign = RunProcess({"ssh-keygen", "-Y", "sign", "-f", (dir / "id").string(), "-n", "lunal",
                          (dir / "m").string()});
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  std::string sig = ReadFileText(dir / "m.sig");
  struct Case {
    std::string prefix;  // principals and options before the key
    std::string reason;  // ours; "ok" when both accept
  } cases[] = {
      {"*@example.com", "ok"},
      {"\"other@x,d?v@example.com\"", "ok"},
      {"*@example.com,!dev@example.com", "sign.signer.not_allowed"},
      {"dev@example.com namespaces=\"git,lun*\"", "ok"},
      {"dev@example.com namespaces=\"git,other\"", "sign.signer.namespace_not_allowed"},
      {"dev@example.com valid-before=\"20200101Z\"", "sign.signer.expired"},
      {"dev@example.com valid-after=\"20990101Z\"", "sign.signer.not_yet_valid"},
      {"dev@example.com VALID-AFTER=\"20200101\",valid-before=\"20990101000000Z\"", "ok"},
  };
  for (const Case& c : cases) {
    std::string file = c.prefix + " " + pub;
    WriteFile(dir / "signers", file);
    auto signers = AllowedSigners::Parse(file, "signers");
    ASSERT_TRUE(signers.ok()) << c.prefix << ": " << signers.error();
    auto ours =
        VerifyWithAllowedSigners(AsBytes(kMessage), sig, *signers, kIdentity, "lunal", kNow);
    EXPECT_EQ(Reason(ours), c.reason) << c.prefix;
    ProcessOptions options;
    options.stdin_data = std::string(kMessage);
    auto theirs =
        RunProcess({"ssh-keygen", "-Y", "verify", "-f", (dir / "signers").string(), "-I",
                    std::string(kIdentity), "-n", "lunal", "-s", (dir / "m.sig").string()},
                   options);
    EXPECT_EQ(theirs.exit_code == 0, c.reason == "ok") << c.prefix << ": " << theirs.err;
  }
}

TEST(SshKeygenErrors, RsaSha1SignatureIsRefused) {
  if (!lunal::testing::HaveProgram("ssh-keygen")) GTEST_SKIP() << "ssh-keygen not installed";
  TempDir dir;
  auto gen = RunProcess(
      {"ssh-keygen", "-q", "-N", "", "-t", "rsa", "-b", "2048", "-f", (dir / "id").string()});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  WriteFile(dir / "m", kMessage);
  auto run = RunProcess({"ssh-keygen", "-Y", "sign", "-f", (dir / "id").string(), "-n", "lunal",
                         (dir / "m").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto sig = *ParseArmoredSshSignature(ReadFileText(dir / "m.sig"));
  // Re-encode the blob with the inner signature type changed to SHA-1 "ssh-rsa".
  Bytes inner = test::Cat({test::Str("ssh-rsa"), test::StrB(sig.signature_blob)});
  Bytes blob = ToBytes("SSHSIG");
  internal::AppendU32(blob, 1);
  blob = test::Cat({blob, test::StrB(sig.public_key.blob()), test::Str("lunal"), test::Str(""),
                    test::Str(sig.hash_algorithm), test::StrB(inner)});
  auto refused = ParseSshSignatureBlob(blob);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason(), "sign.sshsig.rsa_sha1_refused");
  EXPECT_EQ(refused.error().code(), Code::kUnsupported);
}

TEST(SshKeygenErrors, SignerReportsMissingProgramAndKey) {
  TempDir dir;
  WriteFile(dir / "m", kMessage);
  auto missing_key =
      SignFileWithSshKeygen((dir / "m").string(), {.key_path = (dir / "nokey").string()});
  ASSERT_FALSE(missing_key.ok());
  EXPECT_EQ(missing_key.error().reason(), "sign.key_file.not_found");
  WriteFile(dir / "key", "not a key\n");
  auto no_program = SignFileWithSshKeygen(
      (dir / "m").string(),
      {.key_path = (dir / "key").string(), .ssh_keygen = "/nonexistent/ssh-keygen"});
  ASSERT_FALSE(no_program.ok());
  EXPECT_EQ(no_program.error().reason(), "sign.ssh_keygen.not_found");
  if (lunal::testing::HaveProgram("ssh-keygen")) {
    ::chmod((dir / "key").c_str(), 0600);
    auto bad_key =
        SignFileWithSshKeygen((dir / "m").string(), {.key_path = (dir / "key").string()});
    ASSERT_FALSE(bad_key.ok());
    EXPECT_EQ(bad_key.error().reason(), "sign.ssh_keygen.failed");
  }
  auto no_input =
      SignFileWithSshKeygen((dir / "absent").string(), {.key_path = (dir / "key").string()});
  ASSERT_FALSE(no_input.ok());
  EXPECT_EQ(no_input.error().reason(), "sign.input.not_found");
}

}  // namespace
}  // namespace lunal::sign
