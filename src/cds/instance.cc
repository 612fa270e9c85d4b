// The instance's side of the protocol (docs/protocols/cds.md).
#include "lunal/cds/instance.h"

#include "lunal/common/encoding.h"
#include "lunal/crypto/aead.h"
#include "lunal/crypto/kdf.h"
#include "lunal/crypto/random.h"
#include "lunal/crypto/signature.h"

namespace lunal::cds {
namespace {

constexpr std::string_view kReleaseInfo = "lunal/cds/secret-release/v1";
constexpr std::string_view kBeaconDomain = "lunal/cds/beacon/v1";
constexpr std::chrono::seconds kBeaconFutureSkew{60};

// info = "lunal/cds/secret-release/v1" ‖ 0 ‖ tenant ‖ 0 ‖ name: binds the key and the
// ciphertext (as AAD) to the secret they carry.
Bytes ReleaseInfo(std::string_view tenant, std::string_view name) {
  Bytes info = ToBytes(kReleaseInfo);
  info.push_back(0);
  info.insert(info.end(), tenant.begin(), tenant.end());
  info.push_back(0);
  info.insert(info.end(), name.begin(), name.end());
  return info;
}

// key = HKDF-SHA256(ikm = X25519 shared secret, salt = cds_pub ‖ instance_pub, info, 32).
Result<Bytes> ReleaseKey(const crypto::PrivateKey& own, const crypto::PublicKey& peer,
                         ByteSpan cds_pub, ByteSpan instance_pub, ByteSpan info) {
  LUNAL_ASSIGN_OR_RETURN(auto shared, crypto::X25519(own, peer));
  Bytes salt(cds_pub.begin(), cds_pub.end());
  salt.insert(salt.end(), instance_pub.begin(), instance_pub.end());
  Result<Bytes> key = crypto::HkdfSha256(shared, salt, info, crypto::kAeadKeySize);
  crypto::SecureZero(shared);
  return key;
}

}  // namespace

Result<Bytes> SealToInstance(const crypto::PrivateKey& cds_ephemeral,
                             const crypto::PublicKey& instance_key, ByteSpan cds_pub,
                             ByteSpan instance_pub, ByteSpan aead_nonce, ByteSpan plaintext,
                             std::string_view tenant, std::string_view name) {
  const Bytes info = ReleaseInfo(tenant, name);
  LUNAL_ASSIGN_OR_RETURN(Bytes key,
                         ReleaseKey(cds_ephemeral, instance_key, cds_pub, instance_pub, info));
  Result<Bytes> sealed =
      crypto::AeadSeal(crypto::AeadAlgorithm::kChaCha20Poly1305, key, aead_nonce, plaintext, info);
  crypto::SecureZero(key);
  return sealed;
}

Result<Bytes> OpenSealedSecret(const crypto::PrivateKey& instance_key, const SealedSecret& sealed,
                               std::string_view tenant, std::string_view name) {
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey cds_pub,
                         crypto::PublicKey::FromRawX25519(sealed.ephemeral_public));
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey own_pub, instance_key.PublicKey());
  LUNAL_ASSIGN_OR_RETURN(Bytes own_raw, own_pub.RawPublic());
  const Bytes info = ReleaseInfo(tenant, name);
  LUNAL_ASSIGN_OR_RETURN(Bytes key,
                         ReleaseKey(instance_key, cds_pub, sealed.ephemeral_public, own_raw, info));
  Result<Bytes> plain = crypto::AeadOpen(crypto::AeadAlgorithm::kChaCha20Poly1305, key,
                                         sealed.aead_nonce, sealed.ciphertext, info);
  crypto::SecureZero(key);
  return plain;
}

Json EvidenceEnvelope(const attest::Evidence& evidence) {
  const bool tdx = evidence.tee == attest::TeeType::kTdx;
  Json out = {{"platform", tdx ? "tdx" : "snp"},
              {tdx ? "quote" : "report", Base64Encode(evidence.quote)}};
  if (!evidence.event_log.empty()) out["event_log"] = Base64Encode(evidence.event_log);
  return out;
}

Result<attest::ReportData> SecretReleaseReportData(ByteSpan x25519_spki_der, std::string_view nonce,
                                                   std::string_view build_hash,
                                                   std::string_view tenant, std::string_view name) {
  Json payload = {{"key", attest::KeyDigest(x25519_spki_der)},
                  {"nonce", nonce},
                  {"tenant", tenant},
                  {"name", name}};
  if (!build_hash.empty()) payload["build_hash"] = build_hash;
  return attest::ComputeReportData(attest::kPurposeSecretRelease, payload);
}

Bytes BeaconMessage(std::string_view time) {
  Bytes out = ToBytes(kBeaconDomain);
  out.push_back(0);
  out.insert(out.end(), time.begin(), time.end());
  return out;
}

Status VerifyBeacon(const crypto::Certificate& cds_ca, const Beacon& beacon, Timestamp now,
                    std::chrono::seconds max_age) {
  auto when = ParseRfc3339(beacon.time);
  if (!when.ok()) return Malformed("cds.beacon.bad_time", "{}", when.error().message());
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey key, cds_ca.PublicKey());
  if (!crypto::VerifyEcdsaDer(key, crypto::DigestAlgorithm::kSha256, BeaconMessage(beacon.time),
                              beacon.signature)
           .ok()) {
    return VerificationFailed("cds.beacon.bad_signature",
                              "the beacon is not signed by this CDS's key");
  }
  if (*when < now - max_age || *when > now + kBeaconFutureSkew) {
    return VerificationFailed("cds.beacon.stale", "beacon time {} is outside [{}, {}]", beacon.time,
                              FormatRfc3339(now - max_age), FormatRfc3339(now + kBeaconFutureSkew));
  }
  return Status::Ok();
}

Result<attest::ReportData> BeaconReportData(const Beacon& beacon, ByteSpan instance_spki_der) {
  return attest::ComputeReportData(attest::kPurposeBeacon,
                                   {{"key", attest::KeyDigest(instance_spki_der)},
                                    {"signature", Base64UrlEncode(beacon.signature)},
                                    {"time", beacon.time}});
}

}  // namespace lunal::cds
