// VerifyDeploymentRecord over real sim-tdx evidence (test_bundle.h): the verified record in
// DESIGN.md's shape, then one mutation per step, each failing with its stable reason.
#include "lunal/attest/deployment_record.h"

#include <gtest/gtest.h>

#include <functional>

#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/keys.h"
#include "lunal/testing/testing.h"
#include "test_bundle.h"

namespace lunal::attest {
namespace {

using testing::TestDeployment;

constexpr std::string_view kOtherHash =
    "sha256:0000000000000000000000000000000000000000000000000000000000000001";

class DeploymentRecordTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!lunal::testing::HaveProgram("ssh-keygen")) return;
    dir_ = new lunal::testing::TempDir();
    clock_ = new FakeClock(*ParseRfc3339("2026-11-21T10:00:00Z"));
    auto t = TestDeployment::Create(dir_->path(), *clock_);
    ASSERT_TRUE(t.ok()) << t.error();
    deployment_ = t->release();
  }
  static void TearDownTestSuite() {
    delete deployment_;
    delete clock_;
    delete dir_;
  }
  void SetUp() override {
    if (deployment_ == nullptr) GTEST_SKIP() << "ssh-keygen not installed";
  }

  static Json Verify(const DeploymentEvidence& bundle, bool trust = true) {
    return VerifyDeploymentRecord(bundle, *deployment_->Verifier(trust), clock_->Now());
  }

  static lunal::testing::TempDir* dir_;
  static FakeClock* clock_;
  static TestDeployment* deployment_;
};
lunal::testing::TempDir* DeploymentRecordTest::dir_ = nullptr;
FakeClock* DeploymentRecordTest::clock_ = nullptr;
TestDeployment* DeploymentRecordTest::deployment_ = nullptr;

TEST_F(DeploymentRecordTest, VerifiedRecordHasDesignShape) {
  const DeploymentEvidence& bundle = deployment_->bundle;
  const Json record = Verify(bundle);
  ASSERT_EQ(record["status"], "verified") << record.dump(1);
  const Json& a = record["attestation"];
  EXPECT_EQ(a["id"], bundle.id);
  EXPECT_EQ(a["timestamp"], "2026-11-21T10:00:00Z");
  EXPECT_EQ(a["deployment_id"], "hello");
  EXPECT_EQ(a["instance_id"], "i-0a1b2c3d");
  EXPECT_EQ(a["build_hash"], testing::kTestBuildHash);
  EXPECT_EQ(a["tee"]["type"], "tdx");
  EXPECT_EQ(a["tee"]["simulated"], true);
  EXPECT_EQ(a["measurements"]["mr_td"],
            HexEncode(crypto::Digest(crypto::DigestAlgorithm::kSha384, ToBytes("sandbox image"))));
  for (const char* rtmr : {"rtmr0", "rtmr1", "rtmr2", "rtmr3"}) {
    EXPECT_EQ(a["measurements"][rtmr].get<std::string>().size(), 96u) << rtmr;
  }
  EXPECT_NE(a["measurements"]["rtmr3"], std::string(96, '0'));  // the build-hash event

  auto key = crypto::PrivateKey::FromPem(deployment_->instance_key_pem);
  ASSERT_TRUE(key.ok());
  const Bytes spki = *key->PublicKey()->ToSpkiDer();
  EXPECT_EQ(a["report_data_binding"],
            (Json{{"instance_key_sha256", HexEncode(crypto::Sha256(spki))},
                  {"nonce", bundle.nonce},
                  {"valid", true}}));
  EXPECT_EQ(a["event_log"]["replayed"], true);
  EXPECT_EQ(a["event_log"]["build_hash_event"], true);
  EXPECT_EQ(a["platform_verification"]["tcb_status"], "UpToDate");
  EXPECT_EQ(a["policy"]["result"], "pass");
  EXPECT_EQ(a["certificate"]["uri"], "lunal://acme/hello/i-0a1b2c3d");

  // key_id as `ssh-keygen -l` prints it: "256 SHA256:… comment (ED25519)".
  auto listed =
      lunal::testing::RunProcess({"ssh-keygen", "-l", "-f", deployment_->ssh_key_path + ".pub"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const std::string fingerprint = listed.out.substr(4, listed.out.find(' ', 4) - 4);
  ASSERT_EQ(fingerprint.rfind("SHA256:", 0), 0u) << listed.out;
  EXPECT_EQ(a["signature_verification"], (Json{{"developer_id", "dev@example.com"},
                                               {"signature_valid", true},
                                               {"key_id", fingerprint},
                                               {"key_type", "ED25519"},
                                               {"namespace", "lunal"}}));
}

TEST_F(DeploymentRecordTest, WithoutSignatureOrAllowedSigners) {
  DeploymentEvidence unsigned_bundle = deployment_->bundle;
  unsigned_bundle.signature.reset();
  const Json record = Verify(unsigned_bundle);
  ASSERT_EQ(record["status"], "verified") << record.dump(1);
  EXPECT_TRUE(record["attestation"]["signature_verification"].is_null());

  // No allowed signers: any key, named by its fingerprint.
  DeploymentEvidence any_key = deployment_->bundle;
  any_key.signature->allowed_signers.clear();
  const Json any = Verify(any_key);
  ASSERT_EQ(any["status"], "verified") << any.dump(1);
  const Json& sv = any["attestation"]["signature_verification"];
  EXPECT_EQ(sv["developer_id"], sv["key_id"]);
}

TEST_F(DeploymentRecordTest, BundleJsonRoundTripsAndIsChecked) {
  const Json api = deployment_->ApiJson(clock_->Now());
  auto parsed = ParseDeploymentEvidence(api);  // collateral and sim_root_pem are ignored
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(ToJson(*parsed), ToJson(deployment_->bundle));
  EXPECT_EQ(Verify(*parsed)["status"], "verified");

  for (const char* field : {"id", "nonce", "certificate_pem", "build_hash", "evidence"}) {
    Json broken = api;
    broken[field] = 7;
    auto bad = ParseDeploymentEvidence(broken);
    ASSERT_FALSE(bad.ok()) << field;
    EXPECT_EQ(bad.error().reason(), "deployment.bad_field");
    EXPECT_NE(bad.error().message().find(field), std::string::npos) << bad.error().message();
  }
  Json bad_signature = api;
  bad_signature["signature"] = {{"signature", "x"}};
  EXPECT_FALSE(ParseDeploymentEvidence(bad_signature).ok());
}

struct Mutation {
  std::string name;
  std::function<void(DeploymentEvidence&, TestDeployment&, bool& trust)> apply;
  std::string reason;
};

void FlipBase64Byte(Json& evidence, const char* member, std::size_t offset) {
  Bytes bytes = *Base64Decode(evidence[member].get<std::string>());
  ASSERT_LT(offset, bytes.size());
  bytes[offset] ^= 0x01;
  evidence[member] = Base64Encode(bytes);
}

TEST_F(DeploymentRecordTest, EachMutationFailsWithItsReason) {
  const std::vector<Mutation> mutations = {
      // TDX quote v4: 48-byte header, then the TD report body; offset 184 is in MRTD.
      {"quote byte",
       [](DeploymentEvidence& b, TestDeployment&, bool&) {
         FlipBase64Byte(b.evidence, "quote", 184);
       },
       "tdx.quote.signature_invalid"},
      {"nonce", [](DeploymentEvidence& b, TestDeployment&, bool&) { b.nonce = "bm9uY2UtdHdv"; },
       "deployment.binding.mismatch"},
      {"build hash",
       [](DeploymentEvidence& b, TestDeployment&, bool&) {
         b.build_hash = std::string(kOtherHash);
       },
       "deployment.binding.mismatch"},
      // The last byte of the log is inside the lunal.build-hash event (the last record).
      {"event log byte",
       [](DeploymentEvidence& b, TestDeployment&, bool&) {
         const std::size_t size = Base64Decode(b.evidence["event_log"].get<std::string>())->size();
         FlipBase64Byte(b.evidence, "event_log", size - 3);
       },
       "tdx.event_log.lunal.digest_mismatch"},
      {"certificate of another key",
       [](DeploymentEvidence& b, TestDeployment& t, bool&) {
         auto other = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
         b.certificate_pem =
             *t.MeshCertificate(*other, b.tenant, b.deployment_id, b.instance_id, b.build_hash);
       },
       "deployment.binding.mismatch"},
      {"certificate of another instance",
       [](DeploymentEvidence& b, TestDeployment& t, bool&) {
         auto key = crypto::PrivateKey::FromPem(t.instance_key_pem);
         b.certificate_pem =
             *t.MeshCertificate(*key, b.tenant, b.deployment_id, "i-99999999", b.build_hash);
       },
       "deployment.certificate.mismatch"},
      {"certificate of another tenant",
       [](DeploymentEvidence& b, TestDeployment&, bool&) { b.tenant = "globex"; },
       "deployment.certificate.mismatch"},
      {"not a certificate",
       [](DeploymentEvidence& b, TestDeployment&, bool&) { b.certificate_pem = "garbage"; },
       "deployment.certificate.invalid"},
      {"simulation root not trusted",
       [](DeploymentEvidence&, TestDeployment&, bool& trust) { trust = false; },
       "tdx.pck_chain.untrusted_root"},
      {"signature over another hash",
       [](DeploymentEvidence& b, TestDeployment& t, bool&) {
         const std::string message = std::string(kOtherHash) + "\n";
         b.signature->signature = *t.SshSign(message, t.ssh_key_path);
         b.signature->signed_message = message;
       },
       "deployment.signature.wrong_hash"},
      {"signature of another message",
       [](DeploymentEvidence& b, TestDeployment& t, bool&) {
         b.signature->signature = *t.SshSign(std::string(kOtherHash) + "\n", t.ssh_key_path);
       },
       "deployment.signature.invalid"},
      {"signature in another namespace",
       [](DeploymentEvidence& b, TestDeployment& t, bool&) {
         const std::string path = (dir_->path() / "ssh" / "file.txt").string();
         lunal::testing::WriteFile(path, b.signature->signed_message);
         auto r = lunal::testing::RunProcess(
             {"ssh-keygen", "-Y", "sign", "-n", "file", "-f", t.ssh_key_path, path});
         ASSERT_EQ(r.exit_code, 0) << r.err;
         b.signature->signature = lunal::testing::ReadFileText(path + ".sig");
       },
       "deployment.signature.invalid"},
      {"signer not allowed",
       [](DeploymentEvidence& b, TestDeployment& t, bool&) {
         auto other = t.NewSshKey("stranger");
         ASSERT_TRUE(other.ok()) << other.error();
         b.signature->signature = *t.SshSign(b.signature->signed_message, *other);
       },
       "deployment.signature.unknown_signer"},
  };
  for (const Mutation& m : mutations) {
    SCOPED_TRACE(m.name);
    DeploymentEvidence bundle = deployment_->bundle;
    bool trust = true;
    m.apply(bundle, *deployment_, trust);
    const Json record = Verify(bundle, trust);
    EXPECT_EQ(record["status"], "failed") << record.dump(1);
    EXPECT_EQ(record["error"]["reason"], m.reason) << record["error"].dump();
    EXPECT_EQ(record["attestation"]["deployment_id"], "hello");
  }
}

TEST(DeploymentRecordStandaloneTest, EventLogNamingAnotherBuildFails) {
  if (!lunal::testing::HaveProgram("ssh-keygen")) GTEST_SKIP() << "ssh-keygen not installed";
  lunal::testing::TempDir dir;
  FakeClock clock(*ParseRfc3339("2026-11-21T10:00:00Z"));
  auto t = TestDeployment::Create(dir.path(), clock,
                                  {.logged_build_hash = std::string(kOtherHash), .sign = false});
  ASSERT_TRUE(t.ok()) << t.error();
  const Json record = VerifyDeploymentRecord((*t)->bundle, *(*t)->Verifier(true), clock.Now());
  EXPECT_EQ(record["status"], "failed");
  EXPECT_EQ(record["error"]["reason"], "deployment.event_log.build_hash") << record.dump(1);
  EXPECT_EQ(record["attestation"]["report_data_binding"]["valid"], true);
  EXPECT_EQ(record["attestation"]["event_log"]["build_hash_event"], false);
}

}  // namespace
}  // namespace lunal::attest
