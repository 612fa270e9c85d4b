// Build provenance (issue 6; docs/formats/provenance.md): an in-toto Statement v1 whose predicate
// is SLSA Provenance v1, in a DSSE envelope signed by the builder key.
//
//   envelope   DSSE v1 (lunal/crypto/dsse.h), payloadType "application/vnd.in-toto+json"
//   payload    {"_type": "https://in-toto.io/Statement/v1", "subject": [...],
//               "predicateType": "https://slsa.dev/provenance/v1",
//               "predicate": {"buildDefinition": {...}, "runDetails": {...}}}
//              (in-toto attestation spec v1 statement.md; slsa.dev/spec/v1.0/provenance),
//              written as lunal::CanonicalJson
//   signature  ECDSA P-256 / SHA-256, DER, keyid = attest::KeyDigest(builder SPKI)
//
// An attested build (SignOptions::attester set) adds to its DSSE signature a signature extension
// (DSSE envelope.md 1.1.0 "Signature Extensions") of kind kEvidenceExtensionKind:
//   "extension": {"kind": kEvidenceExtensionKind,
//                 "ext": {"publicKey": base64(SPKI DER),
//                         "evidence": {"platform": "tdx", "quote": base64, "event_log": …}}}
// where the evidence (a Lunal evidence envelope, docs/formats/evidence-envelope.md) has
// REPORT_DATA = attest::BuilderReportData(SPKI) (docs/protocols/report-data.md, purpose "build").
// The extension is outside the signed payload, so the statement stays a plain in-toto statement
// that in-toto's tools read unchanged, and the verifier reaches the key before it parses the
// payload (in-toto envelope.md: "SHOULD NOT require the verifier to parse the payload before
// verifying"). The key in it is trusted only through the evidence (DSSE protocol.md EXTENSION: an
// extension must never supply a key on its own authority).
//
// VerifyProvenance, in order (each step's failure has its reason):
//   1. parse the envelope strictly (crypto::ParseDsse)             provenance.bad_envelope
//   2. pick the key: the pinned key (trusted_key_spki), and/or the key an attested signature's
//      evidence binds — the evidence must verify with the engine, with a verdict of verified,
//      and REPORT_DATA = BuilderReportData(that key). Neither a pinned key nor an evidence
//      verifier: refused.                                        provenance.untrusted_key,
//      provenance.evidence_missing / _malformed / _failed / _rejected / _binding
//   3. the DSSE signature over PAE with that key                  provenance.bad_signature
//   4. payloadType                                                provenance.wrong_payload_type
//   5. the statement: _type, predicateType, buildType, subjects   provenance.bad_statement
//   6. expected subjects and build hash                           provenance.subject_mismatch,
//                                                                 provenance.build_hash_mismatch
//
// Thread-safety: BuilderKey is immutable after construction and may be shared; the functions are
// pure apart from the attester and verifier they are given, which are themselves thread-safe.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/attester.h"
#include "lunal/attest/engine/verifier.h"
#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/crypto/keys.h"

namespace lunal::build {

// The SLSA buildType of a Lunal build: what externalParameters and internalParameters mean is
// documented at docs/formats/provenance.md#build-type (the URI need not resolve; SLSA v1 says it
// SHOULD point to such a description).
inline constexpr std::string_view kBuildType = "https://lunal.dev/build/v1";
inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";
inline constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view kSlsaPredicateType = "https://slsa.dev/provenance/v1";
// The DSSE signature extension kind of an attested build (a media type, as DSSE extensions.md
// asks of extension kinds).
inline constexpr std::string_view kEvidenceExtensionKind =
    "application/vnd.dev.lunal.builder-evidence;version=1";
// The subject naming the build manifest, whose digest is the build hash (DESIGN.md).
inline constexpr std::string_view kManifestSubjectName = "lunal-build-manifest.json";

// The key that signs provenance: ECDSA P-256. Chosen over Ed25519 because it is what every DSSE
// verifier supports (securesystemslib's ecdsa-sha2-nistp256, sigstore, go-securesystemslib) and
// what TEE vendors' own keys are, so one crypto profile covers the platform.
//
// LoadOrCreate errors: provenance.key_io (kUnavailable), provenance.key_permissions
// (kPermissionDenied: the PEM file is readable by group or others), provenance.bad_key
// (kMalformed: not an unencrypted PEM private key), provenance.key_type (kUnsupported: not P-256).
class BuilderKey {
 public:
  // Loads the PKCS#8 PEM at `pem_file`, or generates a key and writes it there (mode 0600,
  // atomically; the folder is created 0700 when missing).
  static Result<BuilderKey> LoadOrCreate(const std::filesystem::path& pem_file);
  static Result<BuilderKey> Generate();
  // Wraps an existing P-256 key (tests; keys from elsewhere).
  static Result<BuilderKey> FromPrivateKey(crypto::PrivateKey key);

  BuilderKey(BuilderKey&&) noexcept = default;
  BuilderKey& operator=(BuilderKey&&) noexcept = default;

  const crypto::PrivateKey& private_key() const { return key_; }
  // SubjectPublicKeyInfo DER of the public key.
  Bytes SpkiDer() const { return spki_; }
  // "-----BEGIN PUBLIC KEY-----": what `lunal provenance verify --key` takes.
  std::string PublicKeyPem() const { return public_pem_; }
  // attest::KeyDigest(SpkiDer()): "sha256:<hex>", the DSSE keyid.
  std::string KeyId() const { return key_id_; }

 private:
  BuilderKey(crypto::PrivateKey key, Bytes spki, std::string public_pem, std::string key_id)
      : key_(std::move(key)),
        spki_(std::move(spki)),
        public_pem_(std::move(public_pem)),
        key_id_(std::move(key_id)) {}
  crypto::PrivateKey key_;
  Bytes spki_;
  std::string public_pem_;
  std::string key_id_;
};

struct Subject {
  std::string name = {};
  std::string sha256_hex = {};  // 64 lowercase hex digits
};

struct ProvenanceInput {
  // Each artifact, plus {kManifestSubjectName, build hash hex} (added when missing and
  // build_hash is set).
  std::vector<Subject> subjects = {};
  std::string build_hash = {};  // "sha256:…", or empty
  // {"source": {"uri":…, "digest":…, "ref":…}, "config": "lunal.config.yaml", …}
  Json external_parameters = Json::object();
  Json internal_parameters = Json::object();  // recipe, environment
  // ResourceDescriptors (in-toto resource_descriptor.md): source, lockfiles, toolchain.
  std::vector<Json> resolved_dependencies = {};
  std::string builder_id = {};  // e.g. "https://lunal.dev/builder/local@v1"
  std::string invocation_id = {};
  Timestamp started = {};
  Timestamp finished = {};
  std::vector<Json> byproducts = {};  // ResourceDescriptors: the manifest, the build log digest
};

// Errors: provenance.bad_input (kInvalidArgument: a subject without a name or with a digest that
// is not 64 lowercase hex digits, a build hash that is not "sha256:<hex>" or disagrees with the
// manifest subject, no subjects, an empty builder id, non-object parameters, a dependency or
// byproduct that is not an object); json.* (CanonicalJson of the parameters).
Result<Json> MakeStatement(const ProvenanceInput& input);

struct SignOptions {
  // When set, an attested build: the envelope's signature carries the attester's evidence binding
  // the builder key (see above). Attester errors are returned as they are.
  attest::Attester* attester = nullptr;
};

// The DSSE envelope JSON text.
Result<std::string> SignProvenance(const ProvenanceInput& input, const BuilderKey& key,
                                   const SignOptions& options = {});

struct ProvenanceVerifyOptions {
  std::optional<Bytes> trusted_key_spki = std::nullopt;  // a pinned builder key (SPKI DER)
  // An attested builder: evidence is verified with this (the engine, with the simulation root
  // among its simulated anchors for sim-tdx builds).
  const attest::engine::EvidenceVerifier* evidence_verifier = nullptr;
  std::optional<Timestamp> as_of = std::nullopt;  // evidence verification time; default: now
  std::vector<Subject> expected_subjects = {};    // each must appear with the same digest
  std::string expected_build_hash = {};           // "sha256:…"
};

struct VerifiedProvenance {
  Json statement = Json::object();
  std::string key_id = {};         // KeyDigest of the key whose signature verified
  bool attested = false;           // the key was bound by verified evidence
  bool simulated = false;          // … from a simulated TEE (sim-tdx)
  std::string tee = {};            // "tdx", "snp" when attested
  Json evidence_record = nullptr;  // the engine's verification record when attested
  std::vector<Subject> subjects = {};
  std::string build_hash = {};  // "sha256:" + the manifest subject's digest, if present
  std::string builder_id = {};
  std::string build_type = {};
};

Result<VerifiedProvenance> VerifyProvenance(std::string_view envelope_json,
                                            const ProvenanceVerifyOptions& options);

}  // namespace lunal::build
