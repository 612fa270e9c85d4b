// The Certificate Distribution Service (DESIGN.md "Components", issue 7; protocol:
// docs/protocols/cds.md): challenge nonces, attestation-gated mesh certificates, the operator's
// signed allow-list, attestation-gated secrets, freshness beacons and the TEE registry.
//
//   LUNAL_ASSIGN_OR_RETURN(auto cds, Cds::Open({.state_dir = dir, .operator_key_pem = pem,
//                                               .verifier = verifier}));
//   LUNAL_ASSIGN_OR_RETURN(Challenge c, cds->NewChallenge());
//   … the instance binds ReportDataFor({csr key, c.nonce, build hash}) in its evidence …
//   LUNAL_ASSIGN_OR_RETURN(IssuedCertificate cert, cds->IssueCertificate(request));
//
// Trust: the CDS trusts only (1) the operator key pinned at bootstrap, for the allow-list, (2) the
// EvidenceVerifier it is given (and through it Intel's/AMD's roots, plus a simulation root only
// when that verifier was configured to trust one), and (3) tenant owners' bearer tokens, for
// their own secrets. It never trusts the control plane or the requester's claims: certificate
// contents come from verified evidence and the allow-list, not from the CSR.
//
// State (state_dir, created 0700): cds.db (SQLite; lunal::db) holds the CA certificate, the CA
// key wrapped (ChaCha20-Poly1305) under the master key, nonces, manifests, secrets (ciphertext
// only) and the registry; master.key (32 random bytes, 0600) unless options.master_key_file
// names another file.
//
// Refusals of IssueCertificate / ReleaseSecret, in the order they are checked (stable reasons):
//   cds.request.bad_field (kInvalidArgument)   a missing or malformed request member
//   cds.nonce.unknown (kVerificationFailed)     never issued by this CDS
//   cds.nonce.replayed (kVerificationFailed)    already used (nonces are consumed before anything
//                                               else is checked, so a failed attempt burns it)
//   cds.nonce.expired (kVerificationFailed)     older than nonce_ttl
//   crypto.csr.* (kMalformed/kVerificationFailed)  the CSR does not parse or verify
//   cds.manifest.none (kUnavailable)            no allow-list installed yet
//   <engine reasons>                            the evidence does not verify (tdx.*, snp.*, …)
//   cds.policy.tcb (kPolicyViolation)           TCB status or SVNs below the entry's minimum
//   cds.binding.mismatch (kVerificationFailed)  REPORT_DATA does not bind key, nonce, build hash
//   cds.allow_list.no_entry (kPolicyViolation)  no entry for (tenant, deployment)
//   cds.allow_list.build_hash (kPolicyViolation) the entry does not name the build hash
//   cds.allow_list.measurement (kPolicyViolation) a listed measurement differs
//   cds.policy.debug (kPolicyViolation)         a debug TD / guest
//   cds.policy.simulated (kPolicyViolation)     simulated evidence, the entry does not allow it
// ReleaseSecret then: cds.secret.not_found (kNotFound: no such secret for the tenant the evidence
// was appraised for), cds.secret.denied (kPermissionDenied: its policy does not name the build).
// Manifests: cds.manifest.bad_signature, cds.manifest.bad_type, cds.manifest.bad_field,
// cds.manifest.rollback (kConflict: version not above the active one).
// Bootstrap: cds.config.* (kInvalidArgument), cds.master_key.* (file problems, or a key that
// does not unwrap the stored CA key: cds.master_key.mismatch), db.* from the store.
//
// Thread-safety: every method may be called from many threads (the store is behind a mutex;
// evidence verification runs outside it).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/engine/verifier.h"
#include "lunal/cds/manifest.h"
#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/common/time.h"
#include "lunal/crypto/x509.h"

namespace lunal::cds {

struct CdsOptions {
  std::filesystem::path state_dir = {};  // required
  // The master key file (32 raw bytes, mode 0600). Unset: state_dir/master.key, created at
  // bootstrap. Given: it must exist.
  std::optional<std::filesystem::path> master_key_file = std::nullopt;
  // A replica's master key, received sealed from a running CDS (ReleaseMasterKey) and opened
  // with OpenSealedSecret(…, kReplicaTenant, kMasterKeyName). Written to the master key file when
  // that does not exist yet; must equal it when it does.
  std::optional<Bytes> master_key = std::nullopt;
  std::string operator_key_pem = {};  // required: the pinned operator key (P-256 SPKI PEM)
  std::shared_ptr<const attest::engine::EvidenceVerifier> verifier = nullptr;  // required
  const Clock* clock = nullptr;                                                // null: system
  std::chrono::seconds nonce_ttl{120};
  std::chrono::seconds certificate_lifetime{3600};
  std::string ca_common_name = "Lunal CDS CA";
};

struct Challenge {
  std::string nonce;  // base64url (no padding) of 32 random bytes
  Timestamp expires_at;
};

struct CertificateRequest {
  Bytes evidence = {};  // a Lunal evidence envelope (JSON) or any container the engine reads
  std::string csr_pem = {};
  std::string nonce = {};
  std::string tenant = {};
  std::string deployment = {};
  std::string instance = {};
};

struct IssuedCertificate {
  std::string certificate_pem;
  std::string ca_pem;
  std::string serial_hex;
  Timestamp not_before;
  Timestamp not_after;
  std::string uri;  // lunal://tenant/deployment/instance
  std::string build_hash;
  std::string tee;  // "tdx" | "sev-snp"
  bool simulated = false;
};

// Who may receive a secret: an instance appraised for the secret's tenant whose build hash is
// listed, and whose measurements match when any are listed (same names as the allow-list).
struct SecretPolicy {
  std::vector<std::string> build_hashes = {};
  std::map<std::string, std::vector<std::string>, std::less<>> measurements = {};
};

struct ReleaseRequest {
  std::string name = {};  // the secret
  Bytes evidence = {};
  std::string nonce = {};
  std::string tenant = {};
  std::string deployment = {};
  Bytes x25519_public = {};  // the instance's ephemeral key, 32 raw bytes (RFC 7748)
};

// The secret sealed to the instance's ephemeral key (docs/protocols/cds.md "Secret release").
struct SealedSecret {
  Bytes ephemeral_public;  // the CDS's ephemeral X25519 key, 32 bytes
  Bytes aead_nonce;        // 12 bytes
  Bytes ciphertext;        // ChaCha20-Poly1305 ciphertext ‖ tag
};

// A second CDS replica asks for the master key like an instance asks for a secret: evidence
// binding an ephemeral X25519 key (purpose "secret-release", tenant kReplicaTenant, name
// kMasterKeyName), appraised against the allow-list entry (kReplicaTenant, kReplicaDeployment),
// which names the CDS builds allowed to hold the key (docs/protocols/cds.md section 7).
inline constexpr std::string_view kReplicaTenant = "lunal";
inline constexpr std::string_view kReplicaDeployment = "cds";
inline constexpr std::string_view kMasterKeyName = "cds-master-key";

struct ReplicaRequest {
  Bytes evidence = {};
  std::string nonce = {};
  Bytes x25519_public = {};
};

struct Beacon {
  std::string time;  // RFC 3339 UTC
  Bytes signature;   // ECDSA P-256/SHA-256 DER by the CDS CA key over BeaconMessage(time)
};

class Cds {
 public:
  // Bootstraps on first use (master key, CA key and certificate, schema), loads thereafter.
  static Result<std::unique_ptr<Cds>> Open(CdsOptions options);
  ~Cds();
  Cds(const Cds&) = delete;
  Cds& operator=(const Cds&) = delete;

  Result<Challenge> NewChallenge();
  Result<IssuedCertificate> IssueCertificate(const CertificateRequest& request);

  // The DSSE envelope JSON of an allow-list (see manifest.h). Becomes the active manifest.
  Status PutManifest(std::string_view envelope_json);
  // {"active": {"version", "envelope"}|null, "previous": {…}|null}; each envelope carries the
  // operator's signature and the CDS's countersignature (keyid KeyDigest(CA SPKI)).
  Result<Json> ManifestDocument();
  // The active allow-list, if any.
  std::optional<AllowList> ActiveAllowList() const;

  // Stores `value` for (tenant, name), replacing an earlier value. The caller has authenticated
  // the tenant owner. Errors: cds.request.bad_field.
  Status PutSecret(std::string_view tenant, std::string_view name, ByteSpan value,
                   const SecretPolicy& policy);
  Result<SealedSecret> ReleaseSecret(const ReleaseRequest& request);

  // The master key sealed to an attested replica (see ReplicaRequest). Refusals: the appraisal's
  // (cds.nonce.*, cds.binding.mismatch, cds.allow_list.*, cds.policy.*).
  Result<SealedSecret> ReleaseMasterKey(const ReplicaRequest& request);

  Result<Beacon> NewBeacon();

  // Every issued identity, newest first (at most `limit`): {"serial", "tenant", "deployment",
  // "instance", "build_hash", "tee", "simulated", "tcb_status", "issued_at", "expires_at",
  // "evidence": {summary}}.
  Result<Json> Registry(std::size_t limit = 1000);

  const crypto::Certificate& ca_certificate() const;

  struct Impl;

 private:
  explicit Cds(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lunal::cds
