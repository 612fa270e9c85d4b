#include "lunal/build/provenance.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "lunal/attest/engine/sim_source.h"
#include "lunal/attest/report_data.h"
#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/dsse.h"
#include "lunal/testing/testing.h"

namespace lunal::build {
namespace {

constexpr std::string_view kAppDigest =
    "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
constexpr std::string_view kBuildHashHex =
    "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9";

Timestamp At(std::string_view rfc3339) { return ParseRfc3339(rfc3339).value(); }

ProvenanceInput SampleInput() {
  return ProvenanceInput{
      .subjects = {{.name = "app.tar", .sha256_hex = std::string(kAppDigest)}},
      .build_hash = "sha256:" + std::string(kBuildHashHex),
      .external_parameters = {{"source",
                               {{"uri", "git+https://example.com/app.git"},
                                {"digest", {{"gitCommit", "0123456789abcdef"}}},
                                {"ref", "refs/heads/main"}}},
                              {"config", "lunal.config.yaml"}},
      .internal_parameters = {{"recipe", "python"}, {"environment", {{"TZ", "UTC"}}}},
      .resolved_dependencies = {{{"uri", "file:requirements.txt"},
                                 {"digest", {{"sha256", std::string(kAppDigest)}}}}},
      .builder_id = "https://lunal.dev/builder/local@v1",
      .invocation_id = "build-42",
      .started = At("2026-11-21T10:00:00Z"),
      .finished = At("2026-11-21T10:01:30Z"),
      .byproducts = {{{"name", "build.log"}, {"digest", {{"sha256", std::string(kAppDigest)}}}}},
  };
}

#define EXPECT_REASON(result, reason_value)                                  \
  do {                                                                       \
    auto&& r_ = (result);                                                    \
    ASSERT_FALSE(r_.ok()) << "expected " << (reason_value);                  \
    EXPECT_EQ(r_.error().reason(), (reason_value)) << r_.error().ToString(); \
  } while (false)

class ProvenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = BuilderKey::Generate();
    ASSERT_TRUE(key.ok()) << key.error();
    key_ = std::make_unique<BuilderKey>(std::move(*key));
    auto other = BuilderKey::Generate();
    ASSERT_TRUE(other.ok());
    other_ = std::make_unique<BuilderKey>(std::move(*other));
  }

  std::string Sign(const ProvenanceInput& input) {
    auto env = SignProvenance(input, *key_);
    EXPECT_TRUE(env.ok()) << env.error();
    return env.ok() ? *env : std::string();
  }

  ProvenanceVerifyOptions Pinned() { return {.trusted_key_spki = key_->SpkiDer()}; }

  // Re-signs an edited payload (and type) with `key`: a well-signed envelope with bad content.
  std::string Resign(const BuilderKey& key, std::string_view payload_type,
                     const std::string& payload) {
    crypto::DsseEnvelope env{.payload_type = std::string(payload_type),
                             .payload = ToBytes(payload)};
    auto sig = crypto::SignDsse(env, key.private_key(), key.KeyId());
    EXPECT_TRUE(sig.ok());
    env.signatures.push_back(*sig);
    return crypto::SerializeDsse(env);
  }

  std::unique_ptr<BuilderKey> key_;
  std::unique_ptr<BuilderKey> other_;
};

TEST_F(ProvenanceTest, StatementIsInTotoV1WithSlsaV1Predicate) {
  auto statement = MakeStatement(SampleInput());
  ASSERT_TRUE(statement.ok()) << statement.error();
  const Json& s = *statement;
  EXPECT_EQ(s["_type"], "https://in-toto.io/Statement/v1");
  EXPECT_EQ(s["predicateType"], "https://slsa.dev/provenance/v1");
  // The manifest subject carries the build hash; artifacts keep their order.
  ASSERT_EQ(s["subject"].size(), 2u);
  EXPECT_EQ(s["subject"][0], (Json{{"name", "app.tar"}, {"digest", {{"sha256", kAppDigest}}}}));
  EXPECT_EQ(s["subject"][1],
            (Json{{"name", "lunal-build-manifest.json"}, {"digest", {{"sha256", kBuildHashHex}}}}));
  const Json& def = s["predicate"]["buildDefinition"];
  EXPECT_EQ(def["buildType"], "https://lunal.dev/build/v1");
  EXPECT_EQ(def["externalParameters"]["source"]["ref"], "refs/heads/main");
  EXPECT_EQ(def["internalParameters"]["recipe"], "python");
  EXPECT_EQ(def["resolvedDependencies"][0]["uri"], "file:requirements.txt");
  const Json& run = s["predicate"]["runDetails"];
  EXPECT_EQ(run["builder"]["id"], "https://lunal.dev/builder/local@v1");
  EXPECT_EQ(run["metadata"], (Json{{"invocationId", "build-42"},
                                   {"startedOn", "2026-11-21T10:00:00Z"},
                                   {"finishedOn", "2026-11-21T10:01:30Z"}}));
  EXPECT_EQ(run["byproducts"][0]["name"], "build.log");
}

TEST_F(ProvenanceTest, MakeStatementRejectsBadInput) {
  std::vector<std::function<void(ProvenanceInput&)>> edits = {
      [](ProvenanceInput& in) { in.subjects[0].sha256_hex = "ABCD"; },
      [](ProvenanceInput& in) { in.subjects[0].sha256_hex[0] = 'A'; },  // uppercase hex
      [](ProvenanceInput& in) { in.subjects[0].name = ""; },
      [](ProvenanceInput& in) { in.subjects.push_back(in.subjects[0]); },  // duplicate name
      [](ProvenanceInput& in) { in.build_hash = "sha256:xyz"; },
      [](ProvenanceInput& in) {  // manifest subject disagreeing with the build hash
        in.subjects.push_back(
            {.name = "lunal-build-manifest.json", .sha256_hex = std::string(kAppDigest)});
      },
      [](ProvenanceInput& in) { in.builder_id = ""; },
      [](ProvenanceInput& in) { in.external_parameters = Json::array(); },
      [](ProvenanceInput& in) {
        in.byproducts.push_back(Json{{"name", "no digest"}});
      },
      [](ProvenanceInput& in) {
        in.subjects.clear();
        in.build_hash.clear();
      },
  };
  for (std::size_t i = 0; i < edits.size(); ++i) {
    SCOPED_TRACE(i);
    ProvenanceInput in = SampleInput();
    edits[i](in);
    EXPECT_REASON(MakeStatement(in), "provenance.bad_input");
  }
}

TEST_F(ProvenanceTest, SignThenVerifyWithPinnedKey) {
  const std::string envelope = Sign(SampleInput());
  auto dsse = crypto::ParseDsse(envelope);
  ASSERT_TRUE(dsse.ok()) << dsse.error();
  EXPECT_EQ(dsse->payload_type, "application/vnd.in-toto+json");
  ASSERT_EQ(dsse->signatures.size(), 1u);
  EXPECT_EQ(dsse->signatures[0].keyid, key_->KeyId());
  EXPECT_TRUE(dsse->signatures[0].extension.is_null());
  // The payload is the statement in canonical JSON.
  auto statement = MakeStatement(SampleInput());
  ASSERT_TRUE(statement.ok());
  EXPECT_EQ(ToString(dsse->payload), CanonicalJson(*statement).value());

  ProvenanceVerifyOptions options = Pinned();
  options.expected_subjects = {{.name = "app.tar", .sha256_hex = std::string(kAppDigest)}};
  options.expected_build_hash = "sha256:" + std::string(kBuildHashHex);
  auto verified = VerifyProvenance(envelope, options);
  ASSERT_TRUE(verified.ok()) << verified.error();
  EXPECT_EQ(verified->key_id, key_->KeyId());
  EXPECT_EQ(verified->key_id, attest::KeyDigest(key_->SpkiDer()));
  EXPECT_FALSE(verified->attested);
  EXPECT_FALSE(verified->simulated);
  EXPECT_EQ(verified->build_hash, options.expected_build_hash);
  EXPECT_EQ(verified->builder_id, "https://lunal.dev/builder/local@v1");
  EXPECT_EQ(verified->build_type, kBuildType);
  ASSERT_EQ(verified->subjects.size(), 2u);
  EXPECT_EQ(verified->statement, *statement);
}

TEST_F(ProvenanceTest, NoTrustIsRefused) {
  EXPECT_REASON(VerifyProvenance(Sign(SampleInput()), {}), "provenance.untrusted_key");
}

// Each tampering fails with its own reason.
TEST_F(ProvenanceTest, TamperTable) {
  const std::string good = Sign(SampleInput());
  const crypto::DsseEnvelope parsed = crypto::ParseDsse(good).value();
  auto edited = [&](const std::function<void(crypto::DsseEnvelope&)>& edit) {
    crypto::DsseEnvelope env = parsed;
    edit(env);
    return crypto::SerializeDsse(env);
  };
  const std::string statement = ToString(parsed.payload);
  std::string other_subject = statement;
  other_subject.replace(other_subject.find(kAppDigest), 1, "3");

  struct Case {
    const char* name;
    std::string envelope;
    ProvenanceVerifyOptions options;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"not json", "{", Pinned(), "provenance.bad_envelope"},
      {"no signatures", edited([](auto& e) { e.signatures.clear(); }), Pinned(),
       "provenance.bad_envelope"},
      {"payload byte", edited([](auto& e) { e.payload[40] ^= 0x01; }), Pinned(),
       "provenance.bad_signature"},
      {"payload subject digest", edited([&](auto& e) { e.payload = ToBytes(other_subject); }),
       Pinned(), "provenance.bad_signature"},
      {"payloadType", edited([](auto& e) { e.payload_type = "application/vnd.in-toto+jsom"; }),
       Pinned(), "provenance.bad_signature"},
      {"signature byte", edited([](auto& e) { e.signatures[0].sig[10] ^= 0x20; }), Pinned(),
       "provenance.bad_signature"},
      {"keyid", edited([](auto& e) { e.signatures[0].keyid = "sha256:00"; }), Pinned(),
       "provenance.keyid_mismatch"},
      {"swapped key", good, {.trusted_key_spki = other_->SpkiDer()}, "provenance.keyid_mismatch"},
      {"swapped key, keyid unset",
       edited([](auto& e) { e.signatures[0].keyid.clear(); }),
       {.trusted_key_spki = other_->SpkiDer()},
       "provenance.bad_signature"},
      {"signed by another key", Resign(*other_, kInTotoPayloadType, statement), Pinned(),
       "provenance.keyid_mismatch"},
      {"well signed, wrong payloadType", Resign(*key_, "application/json", statement), Pinned(),
       "provenance.wrong_payload_type"},
      {"well signed, not a statement", Resign(*key_, kInTotoPayloadType, "[1]"), Pinned(),
       "provenance.bad_statement"},
      {"well signed, wrong predicateType",
       Resign(
           *key_, kInTotoPayloadType,
           std::string(statement).replace(statement.find("provenance/v1"), 13, "provenance/v0.2")),
       Pinned(), "provenance.bad_statement"},
      {"artifact digest differs",
       good,
       {.trusted_key_spki = key_->SpkiDer(),
        .expected_subjects = {{.name = "app.tar", .sha256_hex = std::string(kBuildHashHex)}}},
       "provenance.subject_mismatch"},
      {"artifact missing",
       good,
       {.trusted_key_spki = key_->SpkiDer(),
        .expected_subjects = {{.name = "other.tar", .sha256_hex = std::string(kAppDigest)}}},
       "provenance.subject_mismatch"},
      {"build hash differs",
       good,
       {.trusted_key_spki = key_->SpkiDer(),
        .expected_build_hash = "sha256:" + std::string(kAppDigest)},
       "provenance.build_hash_mismatch"},
      {"bad pinned key",
       good,
       {.trusted_key_spki = Bytes{0x30, 0x00}},
       "provenance.bad_trusted_key"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto result = VerifyProvenance(c.envelope, c.options);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().reason(), c.reason) << result.error().ToString();
  }
  // And the untouched envelope still verifies with the same options as the tampered ones.
  EXPECT_TRUE(VerifyProvenance(good, Pinned()).ok());
}

// ---- Attested builds: sim-tdx evidence binding the builder key ----

class AttestedProvenanceTest : public ProvenanceTest {
 protected:
  void SetUp() override {
    ProvenanceTest::SetUp();
    auto root = attest::sim::SimulationRoot::Open(dir_ / "sim", clock_);
    ASSERT_TRUE(root.ok()) << root.error();
    root_ = *root;
    auto attester = attest::sim::SimTdxAttester::Create(
        root_, {.mr_td = crypto::Digest(crypto::DigestAlgorithm::kSha384, ToBytes("builder"))});
    ASSERT_TRUE(attester.ok()) << attester.error();
    attester_ = std::move(*attester);
    trusting_ = attest::engine::MakeLocalVerifier(
        {.collateral = attest::engine::MakeSimulationSource(root_),
         .simulated_anchors = {root_->Anchor()},
         .clock = &clock_});
    not_trusting_ = attest::engine::MakeLocalVerifier(
        {.collateral = attest::engine::MakeSimulationSource(root_), .clock = &clock_});
  }

  std::string SignAttested(const BuilderKey& key) {
    auto env = SignProvenance(SampleInput(), key, {.attester = attester_.get()});
    EXPECT_TRUE(env.ok()) << env.error();
    return env.ok() ? *env : std::string();
  }

  testing::TempDir dir_;
  FakeClock clock_{At("2026-11-21T10:00:00Z")};
  std::shared_ptr<const attest::sim::SimulationRoot> root_;
  std::unique_ptr<attest::sim::SimTdxAttester> attester_;
  std::unique_ptr<attest::engine::EvidenceVerifier> trusting_;
  std::unique_ptr<attest::engine::EvidenceVerifier> not_trusting_;
};

TEST_F(AttestedProvenanceTest, VerifiesThroughTheEngineAndSaysSimulated) {
  const std::string envelope = SignAttested(*key_);
  auto dsse = crypto::ParseDsse(envelope);
  ASSERT_TRUE(dsse.ok()) << dsse.error();
  const Json& ext = dsse->signatures[0].extension;
  EXPECT_EQ(ext["kind"], kEvidenceExtensionKind);
  EXPECT_EQ(ext["ext"]["publicKey"], Base64Encode(key_->SpkiDer()));
  EXPECT_EQ(ext["ext"]["evidence"]["platform"], "tdx");

  // The quote's REPORT_DATA (TDX quote v4: body at 48, REPORT_DATA at body offset 520) is exactly
  // BuilderReportData(spki).
  const Bytes quote = Base64Decode(ext["ext"]["evidence"]["quote"].get<std::string>()).value();
  ASSERT_GE(quote.size(), 48u + 584u);
  const attest::ReportData expected = attest::BuilderReportData(key_->SpkiDer()).value();
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), quote.begin() + 48 + 520));

  auto verified =
      VerifyProvenance(envelope, {.evidence_verifier = trusting_.get(),
                                  .expected_build_hash = "sha256:" + std::string(kBuildHashHex)});
  ASSERT_TRUE(verified.ok()) << verified.error();
  EXPECT_TRUE(verified->attested);
  EXPECT_TRUE(verified->simulated);
  EXPECT_EQ(verified->tee, "tdx");
  EXPECT_EQ(verified->key_id, key_->KeyId());
  EXPECT_EQ(verified->evidence_record["status"], "verified");

  // Pinned and attested at once: both must agree.
  auto both = VerifyProvenance(
      envelope, {.trusted_key_spki = key_->SpkiDer(), .evidence_verifier = trusting_.get()});
  ASSERT_TRUE(both.ok()) << both.error();
  EXPECT_TRUE(both->attested);
  // A pinned key alone ignores the evidence (it verifies, but is not "attested").
  auto pinned = VerifyProvenance(envelope, Pinned());
  ASSERT_TRUE(pinned.ok()) << pinned.error();
  EXPECT_FALSE(pinned->attested);
}

TEST_F(AttestedProvenanceTest, TamperTable) {
  const std::string good = SignAttested(*key_);
  const crypto::DsseEnvelope parsed = crypto::ParseDsse(good).value();
  auto edited = [&](const std::function<void(crypto::DsseEnvelope&)>& edit) {
    crypto::DsseEnvelope env = parsed;
    edit(env);
    return crypto::SerializeDsse(env);
  };
  // Evidence from another key: key B's envelope wearing key A's evidence — and key A's evidence
  // claiming key B's public key.
  const crypto::DsseEnvelope by_other = crypto::ParseDsse(SignAttested(*other_)).value();
  const Json& ext_b = by_other.signatures[0].extension;
  const std::string b_with_a_evidence = [&] {
    crypto::DsseEnvelope env = by_other;
    env.signatures[0].extension["ext"]["evidence"] =
        parsed.signatures[0].extension["ext"]["evidence"];
    return crypto::SerializeDsse(env);
  }();
  const std::string a_evidence_claims_b = edited(
      [&](auto& e) { e.signatures[0].extension["ext"]["publicKey"] = ext_b["ext"]["publicKey"]; });
  // A's genuine extension on a signature by B.
  const std::string b_signature_a_extension = edited([&](auto& e) {
    e.signatures[0].sig = by_other.signatures[0].sig;
    e.signatures[0].keyid.clear();
  });
  const std::string tampered_quote = edited([](auto& e) {
    Json& ev = e.signatures[0].extension["ext"]["evidence"];
    Bytes quote = Base64Decode(ev["quote"].get<std::string>()).value();
    quote[48 + 100] ^=
        0x01;  // a byte of MRSIGNERSEAM in the TD report body, covered by the QE signature
    ev["quote"] = Base64Encode(quote);
  });

  struct Case {
    const char* name;
    std::string envelope;
    const attest::engine::EvidenceVerifier* verifier;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"sim root not trusted", good, not_trusting_.get(), "provenance.evidence_failed"},
      {"extension stripped", edited([](auto& e) { e.signatures[0].extension = nullptr; }),
       trusting_.get(), "provenance.evidence_missing"},
      {"extension of another kind",
       edited([](auto& e) { e.signatures[0].extension["kind"] = "application/x-other"; }),
       trusting_.get(), "provenance.evidence_missing"},
      {"ext without evidence",
       edited([](auto& e) { e.signatures[0].extension["ext"].erase("evidence"); }), trusting_.get(),
       "provenance.evidence_malformed"},
      {"publicKey not base64",
       edited([](auto& e) { e.signatures[0].extension["ext"]["publicKey"] = "***"; }),
       trusting_.get(), "provenance.evidence_malformed"},
      {"evidence not an envelope", edited([](auto& e) {
         e.signatures[0].extension["ext"]["evidence"] = Json{{"x", 1}};
       }),
       trusting_.get(), "provenance.evidence_malformed"},
      {"quote byte", tampered_quote, trusting_.get(), "provenance.evidence_failed"},
      {"evidence from another key", b_with_a_evidence, trusting_.get(),
       "provenance.evidence_binding"},
      {"evidence claims another key", a_evidence_claims_b, trusting_.get(),
       "provenance.evidence_binding"},
      {"signature by another key", b_signature_a_extension, trusting_.get(),
       "provenance.bad_signature"},
      {"payload byte", edited([](auto& e) { e.payload[7] ^= 0x01; }), trusting_.get(),
       "provenance.bad_signature"},
      {"keyid", edited([&](auto& e) { e.signatures[0].keyid = other_->KeyId(); }), trusting_.get(),
       "provenance.keyid_mismatch"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto result = VerifyProvenance(c.envelope, {.evidence_verifier = c.verifier});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().reason(), c.reason) << result.error().ToString();
  }
  // A pinned key that is not the attested one.
  EXPECT_REASON(VerifyProvenance(SignAttested(*other_), {.trusted_key_spki = key_->SpkiDer(),
                                                         .evidence_verifier = trusting_.get()}),
                "provenance.keyid_mismatch");
  EXPECT_TRUE(VerifyProvenance(good, {.evidence_verifier = trusting_.get()}).ok());
}

}  // namespace
}  // namespace lunal::build
