// VerifyDeploymentRecord: the engine's verdict on an instance's evidence, then the deployment's own
// bindings, in the order deployment_record.h lists (the first failure decides).
#include "lunal/attest/deployment_record.h"

#include <fmt/format.h>

#include <string_view>
#include <utility>

#include "lunal/attest/report_data.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/x509.h"
#include "lunal/mesh/identity.h"
#include "lunal/sign/allowed_signers.h"
#include "lunal/sign/sshsig.h"

namespace lunal::attest {
namespace {

// ---- Parsing the bundle ----

Result<std::string> RequiredString(const Json& json, std::string_view key) {
  const auto it = json.find(key);
  if (it == json.end() || !it->is_string()) {
    return Malformed("deployment.bad_field", "evidence bundle: \"{}\" must be a string", key);
  }
  return it->get<std::string>();
}

Result<std::optional<DeveloperSignature>> ParseSignature(const Json& json) {
  const auto it = json.find("signature");
  if (it == json.end() || it->is_null()) return std::optional<DeveloperSignature>();
  if (!it->is_object()) {
    return Malformed("deployment.bad_field", "evidence bundle: \"signature\" must be an object");
  }
  DeveloperSignature signature;
  LUNAL_ASSIGN_OR_RETURN(signature.signature, RequiredString(*it, "signature"));
  LUNAL_ASSIGN_OR_RETURN(signature.signed_message, RequiredString(*it, "signed_message"));
  if (const auto signers = it->find("allowed_signers"); signers != it->end()) {
    if (!signers->is_array()) {
      return Malformed("deployment.bad_field",
                       "evidence bundle: \"signature.allowed_signers\" must be a list of strings");
    }
    for (const Json& line : *signers) {
      if (!line.is_string()) {
        return Malformed("deployment.bad_field",
                         "evidence bundle: \"signature.allowed_signers\" must be a list of "
                         "strings");
      }
      signature.allowed_signers.push_back(line.get<std::string>());
    }
  }
  return std::optional<DeveloperSignature>(std::move(signature));
}

// ---- The record ----

// Failure record: the failing step's status and what was established before it.
Json Failed(const Status& error, Json attestation) {
  return Json{{"status", "failed"},
              {"error",
               {{"code", CodeName(error.code())},
                {"reason", error.reason()},
                {"message", error.message()}}},
              {"attestation", std::move(attestation)}};
}

std::string MeshTeeName(const Json& tee) {
  return tee.value("type", "") == "snp" ? std::string(mesh::kTeeSevSnp) : tee.value("type", "");
}

// Step 4: the certificate names this tenant, deployment, instance and build, and the TEE the
// evidence came from (docs/protocols/mesh.md, "Mesh certificates").
Status CheckCertificate(const mesh::MeshIdentity& id, const DeploymentEvidence& bundle,
                        const Json& tee) {
  const std::pair<std::string_view, std::pair<std::string, std::string>> fields[] = {
      {"tenant", {id.tenant, bundle.tenant}},
      {"deployment", {id.deployment, bundle.deployment_id}},
      {"instance", {id.instance, bundle.instance_id}},
      {"build hash", {id.build_hash, bundle.build_hash}},
      {"TEE", {id.tee, MeshTeeName(tee)}},
      {"simulated",
       {id.simulated ? "true" : "false", tee.value("simulated", false) ? "true" : "false"}},
  };
  for (const auto& [name, values] : fields) {
    if (values.first != values.second) {
      return VerificationFailed("deployment.certificate.mismatch",
                                "the mesh certificate ({}) names {} \"{}\", the evidence \"{}\"",
                                id.Uri(), name, values.first, values.second);
    }
  }
  return Status();
}

// The signed message names the build: hash.txt is "sha256:<hex>\n" (lunal build's output).
bool NamesBuildHash(std::string_view message, std::string_view build_hash) {
  if (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  return message == build_hash;
}

// Step 5 (PROTOCOL.sshsig §4; allowed_signers as ssh-keygen(1) "ALLOWED SIGNERS").
Result<Json> CheckSignature(const DeveloperSignature& s, std::string_view build_hash,
                            Timestamp now) {
  auto parsed = sign::ParseArmoredSshSignature(s.signature);
  if (!parsed.ok()) {
    return VerificationFailed("deployment.signature.invalid", "developer signature: {} [{}]",
                              parsed.error().message(), parsed.error().reason());
  }
  Status valid =
      sign::VerifySshSignature(*parsed, AsBytes(s.signed_message), sign::kLunalNamespace);
  if (!valid.ok()) {
    return VerificationFailed("deployment.signature.invalid", "developer signature: {} [{}]",
                              valid.message(), valid.reason());
  }
  if (!NamesBuildHash(s.signed_message, build_hash)) {
    return VerificationFailed("deployment.signature.wrong_hash",
                              "the developer signed \"{}\", not the build hash {}",
                              s.signed_message.substr(0, 80), build_hash);
  }
  const sign::KeyId key_id = parsed->public_key.Id();
  std::string developer_id = key_id.fingerprint;
  if (!s.allowed_signers.empty()) {
    std::string text;
    for (const std::string& line : s.allowed_signers) text += line + "\n";
    auto signers = sign::AllowedSigners::Parse(text, "allowed_signers");
    if (!signers.ok()) {
      return VerificationFailed("deployment.signature.unknown_signer",
                                "the project's allowed signers do not parse: {}",
                                signers.error().message());
    }
    const sign::AllowedSigner* match = nullptr;
    for (const sign::AllowedSigner& entry : signers->entries()) {
      if (!(entry.key == parsed->public_key)) continue;
      if (entry.namespaces && !sign::MatchPatternList(sign::kLunalNamespace, *entry.namespaces)) {
        continue;
      }
      if (entry.valid_after && now < *entry.valid_after) continue;
      if (entry.valid_before && now >= *entry.valid_before) continue;
      match = &entry;
      break;
    }
    if (match == nullptr) {
      return VerificationFailed("deployment.signature.unknown_signer",
                                "the signing key {} is not among the project's allowed signers "
                                "for namespace \"lunal\"",
                                key_id.fingerprint);
    }
    developer_id = match->principals.substr(0, match->principals.find(','));
  }
  return Json{{"developer_id", developer_id},
              {"signature_valid", true},
              {"key_id", key_id.fingerprint},
              {"key_type", key_id.type},
              {"namespace", sign::kLunalNamespace}};
}

}  // namespace

Json ToJson(const DeploymentEvidence& bundle) {
  Json signature = nullptr;
  if (bundle.signature) {
    signature = {{"signature", bundle.signature->signature},
                 {"signed_message", bundle.signature->signed_message},
                 {"allowed_signers", bundle.signature->allowed_signers}};
  }
  return Json{{"id", bundle.id},
              {"tenant", bundle.tenant},
              {"deployment_id", bundle.deployment_id},
              {"instance_id", bundle.instance_id},
              {"build_hash", bundle.build_hash},
              {"nonce", bundle.nonce},
              {"certificate_pem", bundle.certificate_pem},
              {"evidence", bundle.evidence},
              {"attested_at", bundle.attested_at},
              {"signature", std::move(signature)}};
}

// Members other than these are ignored: the API serves the bundle with more (collateral,
// sim_root_pem), and a newer server may add others.
Result<DeploymentEvidence> ParseDeploymentEvidence(const Json& json) {
  if (!json.is_object()) {
    return Malformed("deployment.bad_field", "evidence bundle: not a JSON object");
  }
  DeploymentEvidence bundle;
  LUNAL_ASSIGN_OR_RETURN(bundle.id, RequiredString(json, "id"));
  LUNAL_ASSIGN_OR_RETURN(bundle.tenant, RequiredString(json, "tenant"));
  LUNAL_ASSIGN_OR_RETURN(bundle.deployment_id, RequiredString(json, "deployment_id"));
  LUNAL_ASSIGN_OR_RETURN(bundle.instance_id, RequiredString(json, "instance_id"));
  LUNAL_ASSIGN_OR_RETURN(bundle.build_hash, RequiredString(json, "build_hash"));
  LUNAL_ASSIGN_OR_RETURN(bundle.nonce, RequiredString(json, "nonce"));
  LUNAL_ASSIGN_OR_RETURN(bundle.certificate_pem, RequiredString(json, "certificate_pem"));
  LUNAL_ASSIGN_OR_RETURN(bundle.attested_at, RequiredString(json, "attested_at"));
  const auto evidence = json.find("evidence");
  if (evidence == json.end() || !evidence->is_object()) {
    return Malformed("deployment.bad_field", "evidence bundle: \"evidence\" must be an object");
  }
  bundle.evidence = *evidence;
  LUNAL_ASSIGN_OR_RETURN(bundle.signature, ParseSignature(json));
  return bundle;
}

Json VerifyDeploymentRecord(const DeploymentEvidence& bundle,
                            const engine::EvidenceVerifier& verifier, Timestamp now) {
  Json a = {{"id", bundle.id},
            {"timestamp", FormatRfc3339(now)},
            {"attested_at", bundle.attested_at},
            {"deployment_id", bundle.deployment_id},
            {"instance_id", bundle.instance_id},
            {"build_hash", bundle.build_hash}};

  // 1. The evidence through the engine, as of now (collateral and certificates must be valid
  //    when the record is made, not when the instance attested).
  auto response = verifier.Verify({.evidence = ToBytes(bundle.evidence.dump()), .as_of = now});
  if (!response.ok()) return Failed(response.error(), std::move(a));
  if (response->verdict == engine::Verdict::kFailed) return Failed(response->error, std::move(a));
  const Json& engine_attestation = response->record["attestation"];
  for (const char* key : {"tee", "measurements", "platform_verification", "policy"}) {
    if (engine_attestation.contains(key)) a[key] = engine_attestation[key];
  }

  // 2. REPORT_DATA binds the certificate's key, the nonce and the build hash (DESIGN.md
  //    "Binding formats"; docs/protocols/report-data.md): recomputed and compared whole.
  auto chain = crypto::ParsePemChain(bundle.certificate_pem);
  if (!chain.ok() || chain->empty()) {
    return Failed(Malformed("deployment.certificate.invalid",
                            "certificate_pem: not a PEM certificate chain{}",
                            chain.ok() ? "" : ": " + chain.error().message()),
                  std::move(a));
  }
  auto identity = mesh::ParseMeshCertificate(chain->front());
  if (!identity.ok()) {
    return Failed(Malformed("deployment.certificate.invalid",
                            "certificate_pem: not a mesh certificate: {} [{}]",
                            identity.error().message(), identity.error().reason()),
                  std::move(a));
  }
  const std::string report_data = response->essentials.value("report_data", "");
  auto expected = ReportDataFor(
      {.key_spki_der = identity->spki, .nonce = bundle.nonce, .build_hash = bundle.build_hash});
  const bool bound = expected.ok() && HexEncode(*expected) == report_data;
  a["report_data_binding"] = {{"instance_key_sha256", HexEncode(crypto::Sha256(identity->spki))},
                              {"nonce", bundle.nonce},
                              {"valid", bound}};
  if (!bound) {
    return Failed(VerificationFailed("deployment.binding.mismatch",
                                     "REPORT_DATA {} is not the binding of the certificate's key, "
                                     "nonce \"{}\" and build hash {}{}",
                                     report_data, bundle.nonce, bundle.build_hash,
                                     expected.ok() ? "" : " (" + expected.error().message() + ")"),
                  std::move(a));
  }

  // 3. RTMR3's event log names the build (the engine replayed it to the quote's RTMRs and
  //    refused a log with two lunal.build-hash events).
  const Json log = engine_attestation.value("event_log", Json::object());
  const std::string logged = log.value("build_hash", "");
  a["event_log"] = {{"replayed", log.value("replayed", false)},
                    {"all_match", log.value("all_match", false)},
                    {"build_hash_event", logged == bundle.build_hash}};
  if (logged != bundle.build_hash) {
    return Failed(VerificationFailed(
                      "deployment.event_log.build_hash", "RTMR3's event log {} the build hash {}",
                      logged.empty() ? std::string("holds no lunal.build-hash event for")
                                     : "names " + logged + ", not",
                      bundle.build_hash),
                  std::move(a));
  }

  // 4. The mesh certificate is this instance's.
  if (Status s = CheckCertificate(*identity, bundle, a.value("tee", Json::object())); !s.ok()) {
    return Failed(s, std::move(a));
  }
  a["certificate"] = {{"uri", identity->Uri()}, {"serial", identity->serial_hex}};

  // 5. The developer's signature over the build hash.
  a["signature_verification"] = nullptr;
  if (bundle.signature) {
    auto signature = CheckSignature(*bundle.signature, bundle.build_hash, now);
    if (!signature.ok()) return Failed(signature.error(), std::move(a));
    a["signature_verification"] = std::move(*signature);
  }
  return Json{{"status", engine::VerdictName(response->verdict)}, {"attestation", std::move(a)}};
}

}  // namespace lunal::attest
