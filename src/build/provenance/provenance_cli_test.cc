// `lunal provenance verify`, run through the built binary: exit codes (docs/conventions.md),
// --json output, pinned keys, artifacts, build hash, and a sim-tdx attested builder.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/build/provenance.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/dsse.h"
#include "lunal/testing/testing.h"

namespace lunal::build {
namespace {

namespace fs = std::filesystem;

testing::ProcessResult Lunal(std::vector<std::string> args) {
  args.insert(args.begin(), (testing::BinaryDir() / "src/cli/lunal").string());
  return testing::RunProcess(args);
}

class ProvenanceCli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = BuilderKey::Generate();
    ASSERT_TRUE(key.ok());
    key_ = std::make_unique<BuilderKey>(std::move(*key));
    testing::WriteFile(dir_ / "app.tar", "the artifact\n");
    const auto digest = crypto::Sha256(AsBytes("the artifact\n"));
    input_ = {.subjects = {{.name = "app.tar", .sha256_hex = HexEncode(digest)}},
              .build_hash = "sha256:" + std::string(64, 'a'),
              .external_parameters = {{"source", {{"uri", "file:."}}}},
              .builder_id = "https://lunal.dev/builder/local@v1"};
    testing::WriteFile(dir_ / "builder.pub.pem", key_->PublicKeyPem());
  }

  std::string Path(std::string_view name) { return (dir_ / name).string(); }

  testing::TempDir dir_;
  std::unique_ptr<BuilderKey> key_;
  ProvenanceInput input_;
};

TEST_F(ProvenanceCli, VerifiesWithPinnedKeyAndRefusesTampering) {
  testing::WriteFile(dir_ / "provenance.json", SignProvenance(input_, *key_).value());
  auto ok = Lunal({"provenance", "verify", "--provenance", Path("provenance.json"), "--key",
                   Path("builder.pub.pem"), "--artifact", Path("app.tar"), "--build-hash",
                   input_.build_hash, "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  auto out = ParseJson(ok.out);
  ASSERT_TRUE(out.ok()) << ok.out;
  EXPECT_EQ((*out)["verified"], true);
  EXPECT_EQ((*out)["key_id"], key_->KeyId());
  EXPECT_EQ((*out)["attested"], false);
  EXPECT_EQ((*out)["build_hash"], input_.build_hash);

  auto human = Lunal({"provenance", "verify", "--provenance", Path("provenance.json"), "--key",
                      Path("builder.pub.pem")});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find(key_->KeyId()), std::string::npos) << human.out;

  // A changed artifact: exit 1 with the reason.
  testing::WriteFile(dir_ / "app.tar", "the artifact!\n");
  auto changed = Lunal({"provenance", "verify", "--provenance", Path("provenance.json"), "--key",
                        Path("builder.pub.pem"), "--artifact", Path("app.tar"), "--json"});
  EXPECT_EQ(changed.exit_code, 1);
  EXPECT_EQ(ParseJson(changed.out).value()["error"]["reason"], "provenance.subject_mismatch");

  // A tampered payload byte.
  crypto::DsseEnvelope env =
      crypto::ParseDsse(testing::ReadFileText(dir_ / "provenance.json")).value();
  env.payload[20] ^= 0x01;
  testing::WriteFile(dir_ / "tampered.json", crypto::SerializeDsse(env));
  auto tampered = Lunal({"provenance", "verify", "--provenance", Path("tampered.json"), "--key",
                         Path("builder.pub.pem")});
  EXPECT_EQ(tampered.exit_code, 1);
  EXPECT_NE(tampered.err.find("provenance.bad_signature"), std::string::npos) << tampered.err;

  // Nothing trusted: refused, never "verified".
  auto untrusted = Lunal({"provenance", "verify", "--provenance", Path("provenance.json")});
  EXPECT_EQ(untrusted.exit_code, 1);
  EXPECT_NE(untrusted.err.find("provenance.untrusted_key"), std::string::npos) << untrusted.err;

  // Usage errors and missing files.
  EXPECT_EQ(Lunal({"provenance", "verify"}).exit_code, 2);
  EXPECT_EQ(Lunal({"provenance", "verify", "--provenance", Path("missing.json"), "--key",
                   Path("builder.pub.pem")})
                .exit_code,
            5);
  testing::WriteFile(dir_ / "garbage.json", "{");
  EXPECT_EQ(Lunal({"provenance", "verify", "--provenance", Path("garbage.json"), "--key",
                   Path("builder.pub.pem")})
                .exit_code,
            2);
  auto help = Lunal({"provenance", "verify", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--sim-root"), std::string::npos);
}

TEST_F(ProvenanceCli, AttestedBuilderUnderSimTdx) {
  SystemClock clock;
  auto root = attest::sim::SimulationRoot::Open(dir_ / "sim-tdx", clock);
  ASSERT_TRUE(root.ok()) << root.error();
  auto attester = attest::sim::SimTdxAttester::Create(
      *root, {.mr_td = crypto::Digest(crypto::DigestAlgorithm::kSha384, ToBytes("builder"))});
  ASSERT_TRUE(attester.ok()) << attester.error();
  testing::WriteFile(dir_ / "provenance.json",
                     SignProvenance(input_, *key_, {.attester = attester->get()}).value());

  auto ok = Lunal({"provenance", "verify", "--provenance", Path("provenance.json"), "--sim-root",
                   Path("sim-tdx"), "--json"});
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  auto out = ParseJson(ok.out).value();
  EXPECT_EQ(out["attested"], true);
  EXPECT_EQ(out["simulated"], true);
  EXPECT_EQ(out["tee"], "tdx");
  EXPECT_EQ(out["key_id"], key_->KeyId());

  auto human = Lunal({"provenance", "verify", "--provenance", Path("provenance.json"), "--sim-root",
                      Path("sim-tdx")});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_NE(human.out.find("SIMULATED"), std::string::npos) << human.out;

  // A verifier on another machine: only the root certificate and the collateral files.
  ASSERT_TRUE((*root)->WriteCollateral(dir_ / "sim-collateral", clock.Now()).ok());
  auto remote =
      Lunal({"provenance", "verify", "--provenance", Path("provenance.json"), "--sim-root",
             Path("sim-tdx/root-ca.pem"), "--collateral", Path("sim-collateral"), "--json"});
  ASSERT_EQ(remote.exit_code, 0) << remote.out << remote.err;
  EXPECT_EQ(ParseJson(remote.out).value()["simulated"], true);

  // Another installation's simulation root is not this builder's.
  ASSERT_TRUE(attest::sim::SimulationRoot::Open(dir_ / "other-sim", clock).ok());
  auto other = Lunal({"provenance", "verify", "--provenance", Path("provenance.json"), "--sim-root",
                      Path("other-sim"), "--json"});
  EXPECT_EQ(other.exit_code, 1) << other.out;
  EXPECT_EQ(ParseJson(other.out).value()["error"]["reason"], "provenance.evidence_failed");
  // A folder that is no simulation root is refused, not created.
  fs::create_directories(dir_ / "empty");
  EXPECT_EQ(Lunal({"provenance", "verify", "--provenance", Path("provenance.json"), "--sim-root",
                   Path("empty")})
                .exit_code,
            2);
  EXPECT_FALSE(fs::exists(dir_ / "empty" / "root-ca.pem"));
}

}  // namespace
}  // namespace lunal::build
