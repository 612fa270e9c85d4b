// `lunal build` through the built binary, end to end: human and --json output, then the
// developer's next steps with real tools: `lunal sign` of hash.txt with an ssh-keygen key,
// `lunal signature verify` (and ssh-keygen -Y verify), `lunal provenance verify`; the
// reproducibility check's exit codes; refusals; usage.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "lunal/common/json.h"
#include "lunal/testing/testing.h"

namespace lunal {
namespace {

namespace fs = std::filesystem;
using testing::ProcessResult;
using testing::ReadFileText;
using testing::RunProcess;
using testing::TempDir;
using testing::WriteFile;

fs::path TestData(std::string_view name) {
  return testing::SourceDir() / "src/build/pipeline/testdata" / std::string(name);
}

class BuildCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveProgram("bwrap")) GTEST_SKIP() << "bwrap is not installed";
    fs::copy(TestData("pyapp"), dir_ / "app", fs::copy_options::recursive);
  }

  // The builder key goes to $XDG_DATA_HOME/lunal/builder-key.pem by default: a temp folder.
  ProcessResult Lunal(std::vector<std::string> args) {
    args.insert(args.begin(), (testing::BinaryDir() / "src/cli/lunal").string());
    testing::ProcessOptions options;
    options.timeout = std::chrono::seconds(300);
    options.env = {"XDG_DATA_HOME=" + (dir_ / "xdg").string()};
    return RunProcess(args, options);
  }

  TempDir dir_;
};

TEST_F(BuildCliTest, HumanOutputThenSignAndVerifyTheHash) {
  const std::string out = (dir_ / "out").string();
  ProcessResult r = Lunal({"build", (dir_ / "app").string(), "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const std::string hash = ReadFileText(dir_ / "out/hash.txt");
  ASSERT_EQ(hash.size(), 72u) << hash;  // "sha256:" + 64 hex + "\n"
  EXPECT_NE(r.out.find("Build hash:  " + hash), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Recipe:      python with"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Artifact:    " + out + "/app.tar"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  lunal sign --hash-file " + out + "/hash.txt --key ~/.ssh/id_ed25519\n"),
            std::string::npos)
      << r.out;
  // Progress on stderr, step by step.
  for (const char* step : {"intake: ", "config: ", "digest: ", "python: build phase (no network)",
                           "archive: app.tar", "hash: sha256:", "provenance: signed by"}) {
    EXPECT_NE(r.err.find(step), std::string::npos) << step << "\nin:\n" << r.err;
  }
  // The default builder key was created under $XDG_DATA_HOME.
  EXPECT_TRUE(fs::is_regular_file(dir_ / "xdg/lunal/builder-key.pem"));

  if (!testing::HaveProgram("ssh-keygen")) GTEST_SKIP() << "ssh-keygen is not installed";
  const std::string key = (dir_ / "id_ed25519").string();
  ASSERT_EQ(
      RunProcess({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "dev", "-f", key}).exit_code,
      0);
  ProcessResult sign = Lunal({"sign", "--hash-file", out + "/hash.txt", "--key", key});
  ASSERT_EQ(sign.exit_code, 0) << sign.err << sign.out;
  ASSERT_TRUE(fs::is_regular_file(out + "/hash.txt.sig"));
  WriteFile(dir_ / "allowed_signers", "dev@example.com " + ReadFileText(key + ".pub"));
  ProcessResult verify =
      Lunal({"signature", "verify", "--hash-file", out + "/hash.txt", "--signature",
             out + "/hash.txt.sig", "--allowed-signers", (dir_ / "allowed_signers").string(),
             "--identity", "dev@example.com"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out;
  // OpenSSH agrees.
  testing::ProcessOptions stdin_hash;
  stdin_hash.stdin_data = hash;
  ProcessResult ssh =
      RunProcess({"ssh-keygen", "-Y", "verify", "-f", (dir_ / "allowed_signers").string(), "-I",
                  "dev@example.com", "-n", "lunal", "-s", out + "/hash.txt.sig"},
                 stdin_hash);
  EXPECT_EQ(ssh.exit_code, 0) << ssh.err << ssh.out;
}

TEST_F(BuildCliTest, JsonOutputAndProvenanceVerify) {
  const std::string out = (dir_ / "out").string();
  ProcessResult r = Lunal({"build", (dir_ / "app").string(), "--out", out, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(r.err, "") << "no progress with --json";
  auto j = ParseJson(r.out);
  ASSERT_TRUE(j.ok()) << r.out;
  const std::string hash = (*j)["build_hash"];
  EXPECT_EQ(ReadFileText(dir_ / "out/hash.txt"), hash + "\n");
  EXPECT_EQ(CanonicalJson((*j)["manifest"]).value(), ReadFileText(dir_ / "out/manifest.json"));
  EXPECT_EQ((*j)["built"], true);
  EXPECT_EQ((*j)["origin"]["kind"], "folder");
  EXPECT_EQ((*j)["config"]["file"], "lunal.config.yaml");
  EXPECT_EQ((*j)["recipe"], "python");
  EXPECT_EQ((*j)["files"]["provenance"], out + "/provenance.dsse.json");
  EXPECT_FALSE(j->contains("reproducibility"));

  WriteFile(dir_ / "builder.pub.pem", (*j)["builder"]["public_key_pem"].get<std::string>());
  ProcessResult v = Lunal({"provenance", "verify", "--provenance", out + "/provenance.dsse.json",
                           "--key", (dir_ / "builder.pub.pem").string(), "--artifact",
                           out + "/app.tar", "--build-hash", hash});
  EXPECT_EQ(v.exit_code, 0) << v.err << v.out;
  EXPECT_NE(v.out.find("Build hash:   " + hash), std::string::npos) << v.out;
  // The provenance does not name another build.
  ProcessResult other = Lunal(
      {"provenance", "verify", "--provenance", out + "/provenance.dsse.json", "--key",
       (dir_ / "builder.pub.pem").string(), "--build-hash", "sha256:" + std::string(64, 'a')});
  EXPECT_EQ(other.exit_code, 1) << other.err;
}

TEST_F(BuildCliTest, AttestSimBuildVerifiesWithTheSimRoot) {
  const std::string out = (dir_ / "out").string();
  const std::string sim = (dir_ / "sim-tdx").string();
  ProcessResult r = Lunal({"build", (dir_ / "app").string(), "--out", out, "--attest-sim", sim});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("attested build: sim-tdx, SIMULATED"), std::string::npos) << r.out;
  ProcessResult v =
      Lunal({"provenance", "verify", "--provenance", out + "/provenance.dsse.json", "--sim-root",
             sim, "--build-hash", ReadFileText(dir_ / "out/hash.txt").substr(0, 71), "--json"});
  ASSERT_EQ(v.exit_code, 0) << v.err << v.out;
  auto j = ParseJson(v.out);
  ASSERT_TRUE(j.ok()) << v.out;
  EXPECT_EQ((*j)["attested"], true);
  EXPECT_EQ((*j)["simulated"], true);
}

TEST_F(BuildCliTest, VerifyReproducibleExitCodes) {
  ProcessResult ok = Lunal({"build", (dir_ / "app").string(), "--out", (dir_ / "out").string(),
                            "--verify-reproducible"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err << ok.out;
  EXPECT_NE(ok.out.find("Reproducible: yes"), std::string::npos) << ok.out;

  if (!testing::HaveProgram("node")) GTEST_SKIP() << "node is not installed";
  fs::copy(TestData("noderandom"), dir_ / "random", fs::copy_options::recursive);
  ProcessResult bad = Lunal({"build", (dir_ / "random").string(), "--out", (dir_ / "out2").string(),
                             "--verify-reproducible"});
  EXPECT_EQ(bad.exit_code, 1) << bad.err << bad.out;
  EXPECT_NE(bad.out.find("Reproducible: NO"), std::string::npos) << bad.out;
  // The first differing byte is one of the 15 random digits after "random=" (offsets 7..21).
  EXPECT_NE(bad.out.find("  app/dist/random.txt: differs from byte "), std::string::npos)
      << bad.out;
  EXPECT_EQ(bad.out.find("stable.txt"), std::string::npos) << bad.out;

  ProcessResult json = Lunal({"build", (dir_ / "random").string(), "--out",
                              (dir_ / "out3").string(), "--verify-reproducible", "--json"});
  EXPECT_EQ(json.exit_code, 1);
  auto j = ParseJson(json.out);
  ASSERT_TRUE(j.ok()) << json.out;
  const Json& rep = (*j)["reproducibility"];
  EXPECT_EQ(rep["reproducible"], false);
  EXPECT_NE(rep["hash_a"], rep["hash_b"]);
  bool named = false;
  for (const Json& d : rep["differences"]) {
    named = named || (d["kind"] == "file" && d["where"] == "app/dist/random.txt" &&
                      d["offset"] >= 7 && d["offset"] < 22 && d["a"] != d["b"]);
  }
  EXPECT_TRUE(named) << rep.dump();
}

TEST_F(BuildCliTest, RefusalsExitOneWithTheReason) {
  auto tar = RunProcess({"/usr/bin/python3", "-c", R"PY(
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    data = b"x\n"
    info = tarfile.TarInfo("app/../../escaped.txt")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
)PY",
                         (dir_ / "evil.tar.gz").string()});
  ASSERT_EQ(tar.exit_code, 0) << tar.err;
  ProcessResult evil =
      Lunal({"build", (dir_ / "evil.tar.gz").string(), "--out", (dir_ / "out").string()});
  EXPECT_EQ(evil.exit_code, 1) << evil.err;
  EXPECT_NE(evil.err.find("[intake.archive.path_traversal]"), std::string::npos) << evil.err;
  EXPECT_FALSE(fs::exists(dir_ / "escaped.txt"));
  EXPECT_FALSE(fs::exists(dir_ / "out/hash.txt"));

  fs::copy(TestData("badconfig"), dir_ / "bad", fs::copy_options::recursive);
  ProcessResult bad = Lunal({"build", (dir_ / "bad").string(), "--out", (dir_ / "out").string()});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_NE(bad.err.find((dir_ / "bad/lunal.config.yaml").string() + ":4:3: runtime.prot"),
            std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find("[config.unknown_key]"), std::string::npos) << bad.err;

  ProcessResult json =
      Lunal({"build", (dir_ / "bad").string(), "--out", (dir_ / "out").string(), "--json"});
  EXPECT_EQ(json.exit_code, 1);
  auto j = ParseJson(json.out);
  ASSERT_TRUE(j.ok()) << json.out;
  EXPECT_EQ((*j)["built"], false);
  EXPECT_EQ((*j)["error"]["reason"], "config.unknown_key");
}

TEST_F(BuildCliTest, HelpAndUsage) {
  ProcessResult help = Lunal({"build", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Examples:"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--verify-reproducible"), std::string::npos) << help.out;
  EXPECT_EQ(Lunal({"build", "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(Lunal({"build", ".", "--source-date-epoch", "-5"}).exit_code, 2);
  ProcessResult ref =
      Lunal({"build", (dir_ / "app").string(), "--ref", "main", "--out", (dir_ / "out").string()});
  EXPECT_EQ(ref.exit_code, 2) << ref.err;
  EXPECT_NE(ref.err.find("[build.pipeline.bad_options]"), std::string::npos) << ref.err;
}

}  // namespace
}  // namespace lunal
