#include "test_bundle.h"

#include <fmt/format.h>

#include <filesystem>
#include <utility>

#include "lunal/attest/engine/sim_source.h"
#include "lunal/attest/report_data.h"
#include "lunal/attest/tdx/event_log_lunal.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/x509.h"
#include "lunal/crypto/x509_builder.h"
#include "lunal/mesh/profile.h"
#include "lunal/testing/testing.h"

namespace lunal::attest::testing {
namespace {

namespace fs = std::filesystem;

Status Failure(std::string_view what, const lunal::testing::ProcessResult& r) {
  return Internal("test.process", "{} failed ({}): {}", what, r.exit_code, r.err);
}

}  // namespace

Result<std::unique_ptr<TestDeployment>> TestDeployment::Create(const fs::path& dir,
                                                               const Clock& clock,
                                                               TestDeploymentOptions options) {
  LUNAL_ASSIGN_OR_RETURN(crypto::PrivateKey ca_key,
                         crypto::PrivateKey::Generate(crypto::KeyType::kEcP256));
  std::unique_ptr<TestDeployment> t(new TestDeployment(dir, clock, std::move(ca_key)));
  const Timestamp now = clock.Now();
  LUNAL_ASSIGN_OR_RETURN(t->root, sim::SimulationRoot::Open(dir / "sim", clock));

  // The node: a TD running the sandbox image, RTMR3 extended with the build hash.
  LUNAL_ASSIGN_OR_RETURN(auto attester,
                         sim::SimTdxAttester::Create(
                             t->root, {.mr_td = crypto::Digest(crypto::DigestAlgorithm::kSha384,
                                                               ToBytes("sandbox image"))}));
  const std::string logged =
      options.logged_build_hash.empty() ? options.build_hash : options.logged_build_hash;
  LUNAL_ASSIGN_OR_RETURN(
      Bytes event,
      tdx::EncodeLunalEvent({.type = tdx::LunalEventType::kBuildHash, .value = logged}));
  const auto digest = crypto::Sha384(event);
  LUNAL_RETURN_IF_ERROR(attester->ExtendRtmr(3, digest, event));

  // The instance key, bound with the nonce and build hash.
  LUNAL_ASSIGN_OR_RETURN(crypto::PrivateKey instance_key,
                         crypto::PrivateKey::Generate(crypto::KeyType::kEcP256));
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey instance_public, instance_key.PublicKey());
  LUNAL_ASSIGN_OR_RETURN(Bytes spki, instance_public.ToSpkiDer());
  LUNAL_ASSIGN_OR_RETURN(ReportData report_data, ReportDataFor({.key_spki_der = spki,
                                                                .nonce = options.nonce,
                                                                .build_hash = options.build_hash}));
  LUNAL_ASSIGN_OR_RETURN(Evidence evidence, attester->Attest(report_data));
  LUNAL_ASSIGN_OR_RETURN(t->instance_key_pem, instance_key.ToPkcs8Pem());

  // The mesh CA (what the CDS holds).
  LUNAL_ASSIGN_OR_RETURN(
      crypto::Certificate ca,
      crypto::CertificateBuilder()
          .SubjectCommonName("Test Mesh CA")
          .Validity(ToSeconds(now) - std::chrono::hours(1), ToSeconds(now) + std::chrono::hours(24))
          .Ca(true)
          .SelfSign(t->ca_key_));
  t->ca_pem_ = ca.ToPem();

  DeploymentEvidence& b = t->bundle;
  b.id = "att_" + HexEncode(crypto::Sha256(AsBytes(options.instance))).substr(0, 24);
  b.tenant = options.tenant;
  b.deployment_id = options.deployment;
  b.instance_id = options.instance;
  b.build_hash = options.build_hash;
  b.nonce = options.nonce;
  LUNAL_ASSIGN_OR_RETURN(b.certificate_pem,
                         t->MeshCertificate(instance_key, options.tenant, options.deployment,
                                            options.instance, options.build_hash));
  b.evidence = {{"platform", "tdx"},
                {"quote", Base64Encode(evidence.quote)},
                {"event_log", Base64Encode(evidence.event_log)},
                {"nonce", HexEncode(AsBytes(options.nonce))}};
  b.attested_at = FormatRfc3339(now);

  if (options.sign) {
    LUNAL_ASSIGN_OR_RETURN(t->ssh_key_path, t->NewSshKey("developer"));
    const std::string pub = lunal::testing::ReadFileText(t->ssh_key_path + ".pub");
    t->allowed_signer_line = "dev@example.com " + pub.substr(0, pub.find_last_of(' '));
    const std::string message = options.build_hash + "\n";
    LUNAL_ASSIGN_OR_RETURN(std::string signature, t->SshSign(message, t->ssh_key_path));
    b.signature = DeveloperSignature{.signature = signature, .signed_message = message};
    if (options.allowed_signers) b.signature->allowed_signers = {t->allowed_signer_line};
  }
  return t;
}

std::unique_ptr<engine::EvidenceVerifier> TestDeployment::Verifier(
    bool trust_simulation_root) const {
  engine::LocalVerifierOptions options{.collateral = engine::MakeSimulationSource(root),
                                       .clock = &clock_};
  if (trust_simulation_root) options.simulated_anchors = {root->Anchor()};
  return engine::MakeLocalVerifier(std::move(options));
}

Json TestDeployment::ApiJson(Timestamp now) const {
  Json json = ToJson(bundle);
  Json collateral = Json::object();
  auto files = root->Collateral(now);
  if (files.ok()) {
    for (const tdx::PoolInput& file : *files) collateral[file.name] = Base64Encode(file.bytes);
  }
  json["collateral"] = std::move(collateral);
  json["sim_root_pem"] = root->root_certificate().ToPem();
  return json;
}

Result<std::string> TestDeployment::NewSshKey(const std::string& name) const {
  fs::create_directories(dir_ / "ssh");
  const std::string path = (dir_ / "ssh" / name).string();
  auto r = lunal::testing::RunProcess(
      {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path});
  if (r.exit_code != 0) return Failure("ssh-keygen -t ed25519", r);
  return path;
}

Result<std::string> TestDeployment::SshSign(const std::string& message,
                                            const std::string& key_path) const {
  static int counter = 0;
  const fs::path file = dir_ / "ssh" / fmt::format("message-{}.txt", ++counter);
  lunal::testing::WriteFile(file, message);
  auto r = lunal::testing::RunProcess(
      {"ssh-keygen", "-Y", "sign", "-n", "lunal", "-f", key_path, file.string()});
  if (r.exit_code != 0) return Failure("ssh-keygen -Y sign", r);
  return lunal::testing::ReadFileText(file.string() + ".sig");
}

Result<std::string> TestDeployment::MeshCertificate(const crypto::PrivateKey& key,
                                                    const std::string& tenant,
                                                    const std::string& deployment,
                                                    const std::string& instance,
                                                    const std::string& build_hash) const {
  const Timestamp now = clock_.Now();
  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate ca, crypto::Certificate::FromPem(ca_pem_));
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey public_key, key.PublicKey());
  crypto::CertificateBuilder builder;
  builder.SubjectCommonName(instance)
      .Validity(ToSeconds(now) - std::chrono::seconds(60), ToSeconds(now) + std::chrono::hours(1))
      .SubjectKey(public_key)
      .Ca(false)
      .KeyUsageBits(crypto::kKeyUsageDigitalSignature)
      .ExtendedKeyUsage({"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"})  // serverAuth, clientAuth
      .AddSanUri(fmt::format("lunal://{}/{}/{}", tenant, deployment, instance))
      .AddExtension(std::string(mesh::kOidBuildHash), mesh::Utf8StringDer(build_hash), false)
      .AddExtension(std::string(mesh::kOidTeeType), mesh::Utf8StringDer("tdx"), false)
      .AddExtension(std::string(mesh::kOidSimulated), Bytes{0x01, 0x01, 0xff}, false);
  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate cert, builder.SignWith(ca, ca_key_));
  return cert.ToPem();
}

}  // namespace lunal::attest::testing
