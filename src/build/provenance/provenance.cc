#include "lunal/build/provenance.h"

#include <utility>

#include "lunal/attest/report_data.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/dsse.h"
#include "statement.h"

namespace lunal::build {
namespace {

// The attester's evidence as a Lunal evidence envelope (docs/formats/evidence-envelope.md), the
// container the engine reads.
Json EvidenceEnvelope(const attest::Evidence& evidence) {
  Json out = {
      {"platform", attest::TeeTypeName(evidence.tee)},
      {evidence.tee == attest::TeeType::kTdx ? "quote" : "report", Base64Encode(evidence.quote)}};
  if (!evidence.event_log.empty()) out["event_log"] = Base64Encode(evidence.event_log);
  if (!evidence.aux_blob.empty()) out["aux_blob"] = Base64Encode(evidence.aux_blob);
  if (evidence.simulated) out["simulated"] = true;
  return out;
}

Result<Json> EvidenceExtension(const BuilderKey& key, attest::Attester& attester) {
  LUNAL_ASSIGN_OR_RETURN(attest::ReportData report_data, attest::BuilderReportData(key.SpkiDer()));
  LUNAL_ASSIGN_OR_RETURN(attest::Evidence evidence, attester.Attest(report_data));
  return Json{
      {"kind", kEvidenceExtensionKind},
      {"ext",
       {{"publicKey", Base64Encode(key.SpkiDer())}, {"evidence", EvidenceEnvelope(evidence)}}}};
}

bool IsTrue(const Json& object, std::string_view key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

// What the attested path of step 2 learned.
struct AttestedKey {
  Bytes spki;
  std::string tee;
  bool simulated = false;
  Json record;
};

// Step 2, attested: the extension's key is trusted only after its evidence verified, was accepted
// by the policy, and binds exactly this key (REPORT_DATA = BuilderReportData(spki)).
Result<AttestedKey> VerifyEvidenceExtension(const Json& extension,
                                            const attest::engine::EvidenceVerifier& verifier,
                                            const std::optional<Timestamp>& as_of) {
  const auto ext = extension.find("ext");
  if (ext == extension.end() || !ext->is_object() || !ext->contains("publicKey") ||
      !(*ext)["publicKey"].is_string() || !ext->contains("evidence") ||
      !(*ext)["evidence"].is_object()) {
    return Malformed("provenance.evidence_malformed",
                     "builder evidence extension: ext must hold a string publicKey and an "
                     "evidence object");
  }
  Result<Bytes> spki = Base64Decode((*ext)["publicKey"].get<std::string>());
  if (!spki.ok()) {
    return Malformed("provenance.evidence_malformed", "builder evidence extension: publicKey: {}",
                     spki.error().message());
  }
  Result<attest::ReportData> expected = attest::BuilderReportData(*spki);
  if (!expected.ok()) {
    return Malformed("provenance.evidence_malformed", "builder evidence extension: {}",
                     expected.error().message());
  }
  attest::engine::VerifyRequest request{
      .evidence = ToBytes((*ext)["evidence"].dump()),
      .as_of = as_of,
      .expected_report_data = Bytes(expected->begin(), expected->end())};
  Result<attest::engine::VerifyResponse> response = verifier.Verify(request);
  if (!response.ok()) {
    return Malformed("provenance.evidence_malformed", "builder evidence: {} [{}]",
                     response.error().message(), response.error().reason());
  }
  switch (response->verdict) {
    case attest::engine::Verdict::kVerified:
      break;
    case attest::engine::Verdict::kRejected:
      return PolicyViolation("provenance.evidence_rejected",
                             "builder evidence verified but the policy rejects it: {}",
                             response->record["attestation"]["policy"].dump());
    case attest::engine::Verdict::kFailed: {
      const std::string& reason = response->error.reason();
      // The TEE verifiers name a REPORT_DATA mismatch <tee>.report_data.mismatch: the evidence is
      // genuine but binds another key.
      const bool binding = reason.ends_with(".report_data.mismatch");
      return VerificationFailed(
          binding ? "provenance.evidence_binding" : "provenance.evidence_failed",
          "builder evidence {}: {} [{}]",
          binding ? "does not bind the builder key" : "does not verify", response->error.message(),
          reason);
    }
  }
  return AttestedKey{.spki = std::move(*spki),
                     .tee = response->tee,
                     .simulated = IsTrue(response->essentials, "simulated"),
                     .record = response->record};
}

// The signatures that may be `key_id`'s: keyid equal to it, or unset (DSSE envelope.md: unset and
// empty are the same). The keyid is an unauthenticated hint (protocol.md), so this only narrows
// which signatures are tried; what decides is the signature check with the key itself.
Result<crypto::DsseEnvelope> SignaturesFor(const crypto::DsseEnvelope& envelope,
                                           const std::string& key_id) {
  crypto::DsseEnvelope out{.payload_type = envelope.payload_type, .payload = envelope.payload};
  for (const crypto::DsseSignature& s : envelope.signatures) {
    if (s.keyid.empty() || s.keyid == key_id) out.signatures.push_back(s);
  }
  if (out.signatures.empty()) {
    return VerificationFailed("provenance.keyid_mismatch",
                              "no signature is by builder key {} (keyids: {})", key_id, [&] {
                                std::string ids;
                                for (const auto& s : envelope.signatures) {
                                  ids += (ids.empty() ? "" : ", ") + s.keyid;
                                }
                                return ids;
                              }());
  }
  return out;
}

Status CheckExpectations(const internal::CheckedStatement& checked,
                         const ProvenanceVerifyOptions& options) {
  for (const Subject& want : options.expected_subjects) {
    const Subject* found = nullptr;
    for (const Subject& s : checked.subjects) {
      if (s.name == want.name) found = &s;
    }
    if (found == nullptr) {
      return VerificationFailed("provenance.subject_mismatch",
                                "provenance has no subject named \"{}\"", want.name);
    }
    if (found->sha256_hex != want.sha256_hex) {
      return VerificationFailed("provenance.subject_mismatch",
                                "subject \"{}\": provenance says sha256 {}, the artifact is {}",
                                want.name, found->sha256_hex, want.sha256_hex);
    }
  }
  if (!options.expected_build_hash.empty() && checked.build_hash != options.expected_build_hash) {
    return VerificationFailed("provenance.build_hash_mismatch",
                              "provenance build hash is \"{}\", expected {}", checked.build_hash,
                              options.expected_build_hash);
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> SignProvenance(const ProvenanceInput& input, const BuilderKey& key,
                                   const SignOptions& options) {
  LUNAL_ASSIGN_OR_RETURN(Json statement, MakeStatement(input));
  LUNAL_ASSIGN_OR_RETURN(std::string payload, CanonicalJson(statement));
  crypto::DsseEnvelope envelope{.payload_type = std::string(kInTotoPayloadType),
                                .payload = ToBytes(payload)};
  LUNAL_ASSIGN_OR_RETURN(crypto::DsseSignature signature,
                         crypto::SignDsse(envelope, key.private_key(), key.KeyId()));
  if (options.attester != nullptr) {
    LUNAL_ASSIGN_OR_RETURN(signature.extension, EvidenceExtension(key, *options.attester));
  }
  envelope.signatures.push_back(std::move(signature));
  return crypto::SerializeDsse(envelope);
}

Result<VerifiedProvenance> VerifyProvenance(std::string_view envelope_json,
                                            const ProvenanceVerifyOptions& options) {
  // 1. Parse strictly.
  Result<crypto::DsseEnvelope> parsed = crypto::ParseDsse(envelope_json);
  if (!parsed.ok()) {
    return Malformed("provenance.bad_envelope", "{} [{}]", parsed.error().message(),
                     parsed.error().reason());
  }
  const crypto::DsseEnvelope& envelope = *parsed;

  // 2. Which key: never one the envelope names on its own authority.
  if (!options.trusted_key_spki && options.evidence_verifier == nullptr) {
    return VerificationFailed("provenance.untrusted_key",
                              "no trusted builder key: pin one (--key) or verify an attested "
                              "builder's evidence (--sim-root / --collateral)");
  }
  VerifiedProvenance out;
  // 2a + 3, pinned key: some signature must verify with it.
  if (options.trusted_key_spki) {
    Result<crypto::PublicKey> key = crypto::PublicKey::FromSpkiDer(*options.trusted_key_spki);
    if (!key.ok()) {
      return InvalidArgument("provenance.bad_trusted_key", "trusted builder key: {}",
                             key.error().message());
    }
    const std::string key_id = attest::KeyDigest(*options.trusted_key_spki);
    LUNAL_ASSIGN_OR_RETURN(crypto::DsseEnvelope mine, SignaturesFor(envelope, key_id));
    if (Status s = crypto::VerifyDsse(mine, *key); !s.ok()) {
      if (s.code() == Code::kUnsupported) {
        return Unsupported("provenance.bad_trusted_key", "trusted builder key: {}", s.message());
      }
      return VerificationFailed("provenance.bad_signature",
                                "provenance signature does not verify with the pinned key {}: {}",
                                key_id, s.message());
    }
    out.key_id = key_id;
  }
  // 2b + 3, attested: a signature whose evidence binds its key, and which verifies with it.
  if (options.evidence_verifier != nullptr) {
    const crypto::DsseSignature* attested = nullptr;
    for (const crypto::DsseSignature& s : envelope.signatures) {
      if (s.extension.is_object() && s.extension.value("kind", "") == kEvidenceExtensionKind) {
        attested = &s;
        break;
      }
    }
    if (attested == nullptr) {
      if (!options.trusted_key_spki) {
        return VerificationFailed("provenance.evidence_missing",
                                  "the provenance carries no builder evidence (kind {}) and no "
                                  "builder key is pinned",
                                  kEvidenceExtensionKind);
      }
    } else {
      LUNAL_ASSIGN_OR_RETURN(
          AttestedKey bound,
          VerifyEvidenceExtension(attested->extension, *options.evidence_verifier, options.as_of));
      Result<crypto::PublicKey> key = crypto::PublicKey::FromSpkiDer(bound.spki);
      if (!key.ok()) {
        return Malformed("provenance.evidence_malformed",
                         "builder evidence extension: publicKey: {}", key.error().message());
      }
      const std::string attested_id = attest::KeyDigest(bound.spki);
      crypto::DsseEnvelope one{.payload_type = envelope.payload_type,
                               .payload = envelope.payload,
                               .signatures = {*attested}};
      LUNAL_ASSIGN_OR_RETURN(one, SignaturesFor(one, attested_id));
      if (Status s = crypto::VerifyDsse(one, *key); !s.ok()) {
        return VerificationFailed("provenance.bad_signature",
                                  "provenance signature does not verify with the attested "
                                  "builder key {}: {}",
                                  attested_id, s.message());
      }
      if (options.trusted_key_spki && attested_id != out.key_id) {
        return VerificationFailed("provenance.untrusted_key",
                                  "the attested builder key {} is not the pinned key {}",
                                  attested_id, out.key_id);
      }
      out.key_id = attested_id;
      out.attested = true;
      out.simulated = bound.simulated;
      out.tee = bound.tee;
      out.evidence_record = std::move(bound.record);
    }
  }

  // 4. The payload type (authenticated by the signature, so checked only now).
  if (envelope.payload_type != kInTotoPayloadType) {
    return VerificationFailed("provenance.wrong_payload_type",
                              "payloadType is \"{}\", expected \"{}\"", envelope.payload_type,
                              kInTotoPayloadType);
  }
  // 5. The statement.
  Result<Json> statement = ParseJson(AsStringView(envelope.payload));
  if (!statement.ok()) {
    return Malformed("provenance.bad_statement", "provenance statement: {}",
                     statement.error().message());
  }
  LUNAL_ASSIGN_OR_RETURN(internal::CheckedStatement checked, internal::CheckStatement(*statement));
  // 6. What the caller expects of it.
  LUNAL_RETURN_IF_ERROR(CheckExpectations(checked, options));

  out.statement = std::move(*statement);
  out.subjects = std::move(checked.subjects);
  out.build_hash = std::move(checked.build_hash);
  out.builder_id = std::move(checked.builder_id);
  out.build_type = std::move(checked.build_type);
  return out;
}

}  // namespace lunal::build
