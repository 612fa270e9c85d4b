// Attestation-gated secrets (docs/protocols/cds.md "Secrets"): stored encrypted under the master
// key, released sealed to an attested instance's ephemeral X25519 key.
#include <algorithm>

#include "impl.h"
#include "lunal/attest/report_data.h"
#include "lunal/cds/instance.h"
#include "lunal/crypto/aead.h"
#include "lunal/crypto/kdf.h"
#include "lunal/crypto/random.h"

namespace lunal::cds {
namespace {

constexpr std::size_t kMaxSecretBytes = 64 * 1024;

// The row's identity is authenticated with the ciphertext, so a ciphertext moved to another
// (tenant, name) row fails to open.
std::string SecretLabel(std::string_view tenant, std::string_view name) {
  std::string label = "secret";
  label.push_back('\0');
  label.append(tenant);
  label.push_back('\0');
  label.append(name);
  return label;
}

Json PolicyToJson(const SecretPolicy& policy) {
  Json m = Json::object();
  for (const auto& [name, values] : policy.measurements) m[name] = values;
  return Json{{"build_hashes", policy.build_hashes}, {"measurements", m}};
}

Result<SecretPolicy> PolicyFromJson(std::string_view text) {
  LUNAL_ASSIGN_OR_RETURN(Json doc, ParseJson(text));
  SecretPolicy p;
  for (const Json& h : doc.value("build_hashes", Json::array())) {
    p.build_hashes.push_back(h.get<std::string>());
  }
  // Named: the range of a range-for keeps only its last temporary alive (items() would dangle).
  const Json measurements = doc.value("measurements", Json::object());
  for (const auto& [name, values] : measurements.items()) {
    p.measurements[name] = values.get<std::vector<std::string>>();
  }
  return p;
}

// The requester's raw X25519 public key, and its SPKI (what the REPORT_DATA binding names).
struct PeerKey {
  crypto::PublicKey key;
  Bytes spki;
};
Result<PeerKey> ParsePeerKey(ByteSpan raw) {
  auto key = crypto::PublicKey::FromRawX25519(raw);
  if (!key.ok()) {
    return InvalidArgument("cds.request.bad_field", "public_key: not a raw X25519 key ({})",
                           key.error().message());
  }
  LUNAL_ASSIGN_OR_RETURN(Bytes spki, key->ToSpkiDer());
  return PeerKey{.key = std::move(*key), .spki = std::move(spki)};
}

}  // namespace

Status Cds::PutSecret(std::string_view tenant, std::string_view name, ByteSpan value,
                      const SecretPolicy& policy) {
  LUNAL_RETURN_IF_ERROR(CheckName("tenant", tenant));
  LUNAL_RETURN_IF_ERROR(CheckName("name", name));
  if (value.empty() || value.size() > kMaxSecretBytes) {
    return InvalidArgument("cds.request.bad_field", "value: {} bytes (1..{} allowed)", value.size(),
                           kMaxSecretBytes);
  }
  if (policy.build_hashes.empty()) {
    return InvalidArgument("cds.request.bad_field",
                           "policy.build_hashes: a secret nobody may receive is a mistake");
  }
  for (const std::string& h : policy.build_hashes) {
    if (!attest::IsSha256Ref(h)) {
      return InvalidArgument("cds.request.bad_field",
                             "policy.build_hashes: \"{}\" is not "
                             "\"sha256:<64 hex>\"",
                             h.substr(0, 80));
    }
  }
  LUNAL_ASSIGN_OR_RETURN(Bytes wrapped, impl_->Wrap(SecretLabel(tenant, name), value));
  const ByteSpan all(wrapped);
  return impl_->store->PutSecret(tenant, name, all.first(crypto::kAeadNonceSize),
                                 all.subspan(crypto::kAeadNonceSize), PolicyToJson(policy).dump(),
                                 impl_->clock->Now());
}

Result<SealedSecret> Cds::ReleaseSecret(const ReleaseRequest& request) {
  LUNAL_RETURN_IF_ERROR(CheckName("tenant", request.tenant));
  LUNAL_RETURN_IF_ERROR(CheckName("deployment", request.deployment));
  LUNAL_RETURN_IF_ERROR(CheckName("name", request.name));
  if (request.nonce.empty() || request.evidence.empty()) {
    return InvalidArgument("cds.request.bad_field", "nonce and evidence are required");
  }
  LUNAL_ASSIGN_OR_RETURN(PeerKey peer_key, ParsePeerKey(request.x25519_public));
  const crypto::PublicKey* peer = &peer_key.key;
  const Bytes& peer_spki = peer_key.spki;
  LUNAL_ASSIGN_OR_RETURN(
      Appraised a, impl_->Appraise(request.evidence, request.nonce, request.tenant,
                                   request.deployment, [&](const std::string& build_hash) {
                                     return SecretReleaseReportData(peer_spki, request.nonce,
                                                                    build_hash, request.tenant,
                                                                    request.name);
                                   }));
  // Looked up only under the tenant the evidence was appraised for: another tenant's secret is
  // indistinguishable from a missing one.
  LUNAL_ASSIGN_OR_RETURN(auto stored, impl_->store->GetSecret(request.tenant, request.name));
  if (!stored) {
    return NotFound("cds.secret.not_found", "no secret \"{}\" for tenant {}", request.name,
                    request.tenant);
  }
  LUNAL_ASSIGN_OR_RETURN(SecretPolicy policy, PolicyFromJson(stored->policy_json));
  if (std::find(policy.build_hashes.begin(), policy.build_hashes.end(), a.build_hash) ==
      policy.build_hashes.end()) {
    return PermissionDenied("cds.secret.denied",
                            "the release policy of \"{}\" does not name build {}", request.name,
                            a.build_hash);
  }
  const Json measurements = a.essentials.value("measurements", Json::object());
  for (const auto& [name, accepted] : policy.measurements) {
    if (accepted.empty()) continue;
    if (std::find(accepted.begin(), accepted.end(), measurements.value(name, "")) ==
        accepted.end()) {
      return PermissionDenied("cds.secret.denied",
                              "the release policy of \"{}\" does not accept this {}", request.name,
                              name);
    }
  }
  Bytes wrapped = stored->aead_nonce;
  wrapped.insert(wrapped.end(), stored->ciphertext.begin(), stored->ciphertext.end());
  LUNAL_ASSIGN_OR_RETURN(Bytes plaintext,
                         impl_->Unwrap(SecretLabel(request.tenant, request.name), wrapped));

  // Seal to the instance: X25519 (RFC 7748) → HKDF-SHA256 (RFC 5869) → ChaCha20-Poly1305
  // (RFC 8439), docs/protocols/cds.md "Secret release".
  LUNAL_ASSIGN_OR_RETURN(crypto::PrivateKey eph,
                         crypto::PrivateKey::Generate(crypto::KeyType::kX25519));
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey eph_pub, eph.PublicKey());
  SealedSecret out;
  LUNAL_ASSIGN_OR_RETURN(out.ephemeral_public, eph_pub.RawPublic());
  out.aead_nonce = crypto::RandomBytes(crypto::kAeadNonceSize);
  Result<Bytes> sealed = SealToInstance(eph, *peer, out.ephemeral_public, request.x25519_public,
                                        out.aead_nonce, plaintext, request.tenant, request.name);
  crypto::SecureZero(plaintext);
  if (!sealed.ok()) return sealed.error();
  out.ciphertext = std::move(*sealed);
  return out;
}

Result<SealedSecret> Cds::ReleaseMasterKey(const ReplicaRequest& request) {
  if (request.nonce.empty() || request.evidence.empty()) {
    return InvalidArgument("cds.request.bad_field", "nonce and evidence are required");
  }
  LUNAL_ASSIGN_OR_RETURN(PeerKey peer_key, ParsePeerKey(request.x25519_public));
  const crypto::PublicKey* peer = &peer_key.key;
  const Bytes& peer_spki = peer_key.spki;
  LUNAL_RETURN_IF_ERROR(impl_->Appraise(request.evidence, request.nonce, kReplicaTenant,
                                        kReplicaDeployment, [&](const std::string& build_hash) {
                                          return SecretReleaseReportData(peer_spki, request.nonce,
                                                                         build_hash, kReplicaTenant,
                                                                         kMasterKeyName);
                                        }));
  LUNAL_ASSIGN_OR_RETURN(crypto::PrivateKey eph,
                         crypto::PrivateKey::Generate(crypto::KeyType::kX25519));
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey eph_pub, eph.PublicKey());
  SealedSecret out;
  LUNAL_ASSIGN_OR_RETURN(out.ephemeral_public, eph_pub.RawPublic());
  out.aead_nonce = crypto::RandomBytes(crypto::kAeadNonceSize);
  LUNAL_ASSIGN_OR_RETURN(
      out.ciphertext,
      SealToInstance(eph, *peer, out.ephemeral_public, request.x25519_public, out.aead_nonce,
                     impl_->master_key, kReplicaTenant, kMasterKeyName));
  return out;
}

}  // namespace lunal::cds
