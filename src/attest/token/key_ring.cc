// KeyRing: rotation, publication and persistence of the token signing keys (key_ring.h).
#include "lunal/attest/token/key_ring.h"

#include <algorithm>

#include "lunal/attest/token/jwk.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/crypto/signature.h"

namespace lunal::attest::token {

struct KeyRing::Key {
  std::string kid;
  crypto::PrivateKey private_key;
  Json jwk;  // public JWK with kid, alg and use: what Jwks publishes
  Timestamp created;
  std::optional<Timestamp> retired;
  std::optional<Timestamp> last_exp;  // guarded by KeyRing::mu_

  std::shared_ptr<Key> Copy() const {
    return std::make_shared<Key>(Key{kid, private_key.Clone(), jwk, created, retired, last_exp});
  }
};

namespace {

constexpr const char* kManifest = "keyring.json";

// A kid is an RFC 7638 SHA-256 thumbprint: 43 base64url characters. Checked before a kid from
// keyring.json becomes a file name.
bool IsThumbprint(std::string_view kid) {
  return kid.size() == 43 && std::all_of(kid.begin(), kid.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
         });
}

std::filesystem::path PemPath(const std::filesystem::path& dir, std::string_view kid) {
  return dir / (std::string(kid) + ".pem");
}

Result<Json> PublishedJwk(const crypto::PrivateKey& key, std::string* kid_out) {
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey pub, key.PublicKey());
  LUNAL_ASSIGN_OR_RETURN(Json jwk, PublicJwk(pub));
  LUNAL_ASSIGN_OR_RETURN(*kid_out, JwkThumbprint(pub));
  jwk["kid"] = *kid_out;
  jwk["alg"] = "ES256";  // RFC 7517 §4.4: the one algorithm this key is used with
  jwk["use"] = "sig";
  return jwk;
}

// lunal/common/files.h errors as key_ring.h publishes them: a file others may read is
// token.keyring.insecure_permissions, anything else token.keyring.io; the message (with the path)
// is kept.
Status KeyFileError(const Status& s) {
  if (s.ok()) return s;
  if (s.reason() == "file.insecure_permissions") {
    return PermissionDenied("token.keyring.insecure_permissions",
                            "{}; key files must be readable by their owner only", s.message());
  }
  return Unavailable("token.keyring.io", s.message());
}

Result<std::string> ReadKeyFile(const std::filesystem::path& path) {
  auto text = ReadPrivateFile(path);
  if (!text.ok()) return KeyFileError(text.error());
  return text;
}

Status ManifestError(const std::filesystem::path& path, std::string_view what) {
  return Malformed("token.keyring.malformed", "{}: {}", path.string(), what);
}

Result<std::optional<Timestamp>> OptionalTime(const Json& entry, const char* key,
                                              const std::filesystem::path& path) {
  auto it = entry.find(key);
  if (it == entry.end()) return std::optional<Timestamp>();
  if (!it->is_string()) return ManifestError(path, std::string(key) + " is not a string");
  auto t = ParseRfc3339(it->get<std::string>());
  if (!t.ok()) return ManifestError(path, std::string(key) + ": " + t.error().message());
  return std::optional<Timestamp>(*t);
}

}  // namespace

KeyRing::KeyRing(KeyRingOptions options) : options_(std::move(options)) {}
KeyRing::~KeyRing() = default;

Status KeyRing::AddNewKeyLocked(Timestamp now) {
  LUNAL_ASSIGN_OR_RETURN(crypto::PrivateKey key,
                         crypto::PrivateKey::Generate(crypto::KeyType::kEcP256));
  std::string kid;
  LUNAL_ASSIGN_OR_RETURN(Json jwk, PublishedJwk(key, &kid));
  if (!options_.dir.empty()) {
    LUNAL_ASSIGN_OR_RETURN(std::string pem, key.ToPkcs8Pem());
    LUNAL_RETURN_IF_ERROR(KeyFileError(WriteFileAtomically(PemPath(options_.dir, kid), pem)));
  }
  keys_.insert(keys_.begin(), std::make_shared<Key>(Key{kid, std::move(key), std::move(jwk), now,
                                                        std::nullopt, std::nullopt}));
  return Status();
}

Status KeyRing::PersistLocked() const {
  if (options_.dir.empty()) return Status();
  Json keys = Json::array();
  for (const auto& key : keys_) {
    Json entry = {{"kid", key->kid}, {"created", FormatRfc3339(key->created)}};
    if (key->retired) entry["retired"] = FormatRfc3339(*key->retired);
    if (key->last_exp) entry["last_exp"] = FormatRfc3339(*key->last_exp);
    keys.push_back(std::move(entry));
  }
  Json manifest = {{"version", 1}, {"current", keys_.front()->kid}, {"keys", keys}};
  return KeyFileError(WriteFileAtomically(options_.dir / kManifest, manifest.dump(2) + "\n"));
}

Result<std::unique_ptr<KeyRing>> KeyRing::Open(const KeyRingOptions& options, Timestamp now) {
  if (options.max_token_lifetime.count() <= 0) {
    return InvalidArgument("token.keyring.options", "max_token_lifetime must be positive");
  }
  std::unique_ptr<KeyRing> ring(new KeyRing(options));
  std::lock_guard lock(ring->mu_);
  if (!options.dir.empty()) LUNAL_RETURN_IF_ERROR(KeyFileError(EnsureDirectory(options.dir)));
  const std::filesystem::path manifest_path = options.dir / kManifest;
  std::error_code ec;
  if (options.dir.empty() || !std::filesystem::exists(manifest_path, ec)) {
    LUNAL_RETURN_IF_ERROR(ring->AddNewKeyLocked(now));
    LUNAL_RETURN_IF_ERROR(ring->PersistLocked());
    return ring;
  }

  LUNAL_ASSIGN_OR_RETURN(std::string text, ReadKeyFile(manifest_path));
  auto manifest = ParseJson(text);
  if (!manifest.ok()) return ManifestError(manifest_path, manifest.error().message());
  const Json& m = *manifest;
  if (!m.is_object() || m.value("version", Json()) != 1 || !m.contains("current") ||
      !m["current"].is_string() || !m.contains("keys") || !m["keys"].is_array()) {
    return ManifestError(manifest_path,
                         "expected {\"version\": 1, \"current\": kid, \"keys\": [...]}");
  }
  const std::string current = m["current"];
  for (const Json& entry : m["keys"]) {
    if (!entry.is_object() || !entry.contains("kid") || !entry["kid"].is_string() ||
        !IsThumbprint(entry["kid"].get<std::string>()) || !entry.contains("created")) {
      return ManifestError(manifest_path,
                           "each key needs a kid (an RFC 7638 thumbprint) and created");
    }
    const std::string kid = entry["kid"];
    LUNAL_ASSIGN_OR_RETURN(std::optional<Timestamp> created,
                           OptionalTime(entry, "created", manifest_path));
    LUNAL_ASSIGN_OR_RETURN(std::optional<Timestamp> retired,
                           OptionalTime(entry, "retired", manifest_path));
    LUNAL_ASSIGN_OR_RETURN(std::optional<Timestamp> last_exp,
                           OptionalTime(entry, "last_exp", manifest_path));
    if ((kid == current) == retired.has_value()) {
      return ManifestError(manifest_path, "exactly the current key has no \"retired\" time");
    }
    const std::filesystem::path pem_path = PemPath(options.dir, kid);
    LUNAL_ASSIGN_OR_RETURN(std::string pem, ReadKeyFile(pem_path));
    LUNAL_ASSIGN_OR_RETURN(crypto::PrivateKey key, crypto::PrivateKey::FromPem(pem));
    std::string actual_kid;
    auto jwk = PublishedJwk(key, &actual_kid);
    if (!jwk.ok() || actual_kid != kid) {
      return Malformed("token.keyring.kid_mismatch",
                       "{}: the key in the file is not the P-256 key {}", pem_path.string(), kid);
    }
    if (kid == current) {
      // Tokens signed before this start expire by now + max_token_lifetime at the latest.
      const Timestamp bound = now + options.max_token_lifetime;
      last_exp = last_exp ? std::max(*last_exp, bound) : bound;
    }
    ring->keys_.push_back(std::make_shared<Key>(
        Key{kid, std::move(key), std::move(*jwk), *created, retired, last_exp}));
  }
  auto cur = std::find_if(ring->keys_.begin(), ring->keys_.end(),
                          [&](const auto& k) { return k->kid == current; });
  if (cur == ring->keys_.end())
    return ManifestError(manifest_path, "the current key is not listed");
  std::rotate(ring->keys_.begin(), cur, cur + 1);
  std::stable_sort(ring->keys_.begin() + 1, ring->keys_.end(),
                   [](const auto& a, const auto& b) { return *a->retired > *b->retired; });
  return ring;
}

Status KeyRing::Rotate(Timestamp now) {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Key>> before = keys_;
  // The retiring key is copied, so that a failure below leaves the ring as it was.
  std::shared_ptr<Key> retiring = keys_.front()->Copy();
  retiring->retired = now;
  keys_.front() = retiring;
  std::vector<std::string> removed;
  std::erase_if(keys_, [&](const std::shared_ptr<Key>& k) {
    const bool drop = !k->last_exp || *k->last_exp <= now;
    if (drop) removed.push_back(k->kid);
    return drop;
  });
  Status status = AddNewKeyLocked(now);
  const bool added = status.ok();
  if (added) status = PersistLocked();
  if (!status.ok()) {
    if (added && !options_.dir.empty()) {
      // Best effort: an orphan PEM (one keyring.json does not list) is ignored by Open anyway.
      RemoveFile(PemPath(options_.dir, keys_.front()->kid)).IgnoreError();
    }
    keys_ = std::move(before);
    return status;
  }
  if (!options_.dir.empty()) {
    for (const std::string& kid : removed) {
      // The manifest no longer lists it; a failure leaves an orphan file Open ignores.
      RemoveFile(PemPath(options_.dir, kid)).IgnoreError();
    }
  }
  return Status();
}

Json KeyRing::Jwks(Timestamp now) const {
  std::lock_guard lock(mu_);
  Json keys = Json::array();
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const Key& k = *keys_[i];
    if (i == 0 || (k.last_exp && *k.last_exp > now)) keys.push_back(k.jwk);
  }
  return Json{{"keys", keys}};
}

std::string KeyRing::CurrentKid() const {
  std::lock_guard lock(mu_);
  return keys_.front()->kid;
}

std::vector<KeyInfo> KeyRing::Keys() const {
  std::lock_guard lock(mu_);
  std::vector<KeyInfo> out;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const Key& k = *keys_[i];
    out.push_back({.kid = k.kid,
                   .created = k.created,
                   .retired = k.retired,
                   .last_exp = k.last_exp,
                   .current = i == 0});
  }
  return out;
}

Result<KeyRing::Signed> KeyRing::SignCompact(Json header_without_kid, const std::string& payload,
                                             Timestamp exp, Timestamp now) {
  if (exp > now + options_.max_token_lifetime) {
    return InvalidArgument("token.keyring.lifetime_exceeded",
                           "a token expiring at {} outlives the key ring's bound of {}s",
                           FormatRfc3339(exp), options_.max_token_lifetime.count());
  }
  std::shared_ptr<Key> key;
  {
    std::lock_guard lock(mu_);
    key = keys_.front();
    // Recorded before signing: a Rotate from now on retires the key with this exp included.
    if (!key->last_exp || *key->last_exp < exp) key->last_exp = exp;
  }
  header_without_kid["kid"] = key->kid;
  LUNAL_ASSIGN_OR_RETURN(std::string header, CanonicalJson(header_without_kid));
  // RFC 7515 §5.1: the JWS Signing Input is ASCII(BASE64URL(header) || '.' || BASE64URL(payload)).
  std::string compact = Base64UrlEncode(AsBytes(header)) + "." + Base64UrlEncode(AsBytes(payload));
  // RFC 7518 §3.4: ES256 = ECDSA P-256 with SHA-256, the signature is r ‖ s (32 bytes each).
  LUNAL_ASSIGN_OR_RETURN(
      Bytes signature,
      crypto::SignEcdsaRaw(key->private_key, crypto::DigestAlgorithm::kSha256, AsBytes(compact)));
  compact += "." + Base64UrlEncode(signature);
  return Signed{.compact = std::move(compact), .kid = key->kid};
}

}  // namespace lunal::attest::token
