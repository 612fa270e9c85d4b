// Interop with Debian's in-toto tooling (python3-securesystemslib 0.26, the library in-toto 1.3.1
// verifies signatures with) and python3-cryptography, through testdata/dsse_check.py: they verify
// our envelopes and refuse tampered ones, and we verify an envelope securesystemslib signed.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "lunal/build/provenance.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "lunal/crypto/dsse.h"
#include "lunal/testing/testing.h"

namespace lunal::build {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDigest =
    "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

fs::path Script() { return testing::SourceDir() / "src/build/provenance/testdata/dsse_check.py"; }

class ProvenanceInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    auto probe = testing::RunProcess(
        {"/usr/bin/python3", "-c", "import securesystemslib.signer, cryptography"});
    if (probe.exit_code != 0) {
      GTEST_SKIP() << "Debian's python3-securesystemslib is not installed "
                      "(scripts/install-deps.sh): "
                   << probe.err;
    }
    auto key = BuilderKey::Generate();
    ASSERT_TRUE(key.ok());
    key_ = std::make_unique<BuilderKey>(std::move(*key));
    testing::WriteFile(dir_ / "builder.pub.pem", key_->PublicKeyPem());
  }

  ProvenanceInput Input() {
    return {.subjects = {{.name = "app.tar", .sha256_hex = std::string(kDigest)}},
            .external_parameters = {{"source", {{"uri", "file:."}}}},
            .builder_id = "https://lunal.dev/builder/local@v1"};
  }

  testing::ProcessResult Check(const std::string& envelope) {
    testing::WriteFile(dir_ / "envelope.json", envelope);
    return testing::RunProcess({"/usr/bin/python3", Script().string(),
                                (dir_ / "envelope.json").string(),
                                (dir_ / "builder.pub.pem").string()});
  }

  testing::TempDir dir_;
  std::unique_ptr<BuilderKey> key_;
};

TEST_F(ProvenanceInterop, SecuresystemslibVerifiesOurEnvelope) {
  auto envelope = SignProvenance(Input(), *key_);
  ASSERT_TRUE(envelope.ok()) << envelope.error();
  // An attested build's signature extension rides along unauthenticated; it must not disturb a
  // verifier that does not know it.
  crypto::DsseEnvelope with_ext = crypto::ParseDsse(*envelope).value();
  with_ext.signatures[0].extension = {{"kind", kEvidenceExtensionKind},
                                      {"ext", {{"publicKey", "AA=="}}}};

  for (const std::string& text : {*envelope, crypto::SerializeDsse(with_ext)}) {
    auto result = Check(text);
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    auto summary = ParseJson(result.out);
    ASSERT_TRUE(summary.ok()) << result.out;
    EXPECT_EQ((*summary)["verified"], true);
    EXPECT_EQ((*summary)["keyid"], key_->KeyId());
    EXPECT_EQ((*summary)["subjects"]["app.tar"], kDigest);
    EXPECT_EQ((*summary)["buildType"], kBuildType);
  }
  auto ext_summary = ParseJson(Check(crypto::SerializeDsse(with_ext)).out);
  ASSERT_TRUE(ext_summary.ok());
  EXPECT_EQ((*ext_summary)["unrecognized_signature_fields"], Json::array({"extension"}));
}

TEST_F(ProvenanceInterop, SecuresystemslibRefusesTamperedEnvelopes) {
  const crypto::DsseEnvelope good =
      crypto::ParseDsse(SignProvenance(Input(), *key_).value()).value();
  crypto::DsseEnvelope payload = good;
  payload.payload[payload.payload.size() / 2] ^= 0x01;
  crypto::DsseEnvelope type = good;
  type.payload_type = "application/vnd.in-toto+jso";
  crypto::DsseEnvelope sig = good;
  sig.signatures[0].sig[12] ^= 0x01;
  for (const crypto::DsseEnvelope* env : {&payload, &type, &sig}) {
    auto result = Check(crypto::SerializeDsse(*env));
    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    EXPECT_NE(result.out.find(R"("reason": "signature")"), std::string::npos) << result.out;
  }
  // Another key's public key.
  auto other = BuilderKey::Generate();
  ASSERT_TRUE(other.ok());
  testing::WriteFile(dir_ / "builder.pub.pem", other->PublicKeyPem());
  EXPECT_EQ(Check(crypto::SerializeDsse(good)).exit_code, 1);
}

TEST_F(ProvenanceInterop, WeVerifyWhatSecuresystemslibSigned) {
  testing::WriteFile(dir_ / "builder.key.pem", key_->private_key().ToPkcs8Pem().value());
  const std::string statement = CanonicalJson(MakeStatement(Input()).value()).value();
  testing::WriteFile(dir_ / "statement.json", statement);
  auto signed_by_python = testing::RunProcess({"/usr/bin/python3", Script().string(), "--sign",
                                               (dir_ / "builder.key.pem").string(),
                                               (dir_ / "statement.json").string()});
  ASSERT_EQ(signed_by_python.exit_code, 0) << signed_by_python.err;

  auto verified = VerifyProvenance(signed_by_python.out, {.trusted_key_spki = key_->SpkiDer()});
  ASSERT_TRUE(verified.ok()) << verified.error() << "\n" << signed_by_python.out;
  EXPECT_EQ(verified->subjects[0].sha256_hex, kDigest);

  crypto::DsseEnvelope tampered = crypto::ParseDsse(signed_by_python.out).value();
  tampered.payload[3] ^= 0x01;
  auto refused =
      VerifyProvenance(crypto::SerializeDsse(tampered), {.trusted_key_spki = key_->SpkiDer()});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason(), "provenance.bad_signature");
}

}  // namespace
}  // namespace lunal::build
