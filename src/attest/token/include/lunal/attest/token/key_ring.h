// KeyRing: the ES256 keys that sign result tokens, with rotation and a published JWKS.
//
//   LUNAL_ASSIGN_OR_RETURN(auto ring, KeyRing::Open({.dir = "/var/lib/lunal/token-keys"}, now));
//   ring->Jwks(now);      // {"keys": [current, then previous keys that still have live tokens]}
//   ring->Rotate(now);    // a new current key; the old one stays published while its tokens live
//
// One key is current: it signs every new token. Rotate(now) makes a fresh P-256 key current and
// retires the old one. A retired key stays in the JWKS exactly while a token it signed may still
// be valid: Jwks(now) lists it while the latest `exp` it signed is after `now`. A retired key that
// signed nothing is dropped at once; Rotate also deletes the keys no longer published.
//
// Persistence (KeyRingOptions::dir; empty = in memory only). Layout:
//   <dir>/keyring.json   {"version":1,"current":kid,"keys":[{"kid","created","retired"?,
//                         "last_exp"?}]}  (times RFC 3339)
//   <dir>/<kid>.pem      the private key, PKCS#8 PEM
// Every file is written atomically (a temporary file in <dir>, fsync, rename, fsync of <dir>)
// with mode 0600; <dir> is created 0700. On Open the PEM must match its kid (the RFC 7638
// thumbprint) and no file may be readable by group or others. A retired key's last `exp` is
// written when it retires (it cannot sign after that). The current key's is not written per
// token: on Open it is taken as at least `now + max_token_lifetime`, an upper bound for tokens
// signed before a restart, so a restart never unpublishes a key early.
//
// Errors (stable reasons):
//   kInvalidArgument token.keyring.options (max_token_lifetime not positive),
//                    token.keyring.lifetime_exceeded (Sign with exp beyond now +
//                    max_token_lifetime)
//   kUnavailable     token.keyring.io (a file or the folder cannot be read or written; the message
//                    names the path and errno text)
//   kMalformed       token.keyring.malformed (keyring.json), token.keyring.kid_mismatch (a PEM
//                    whose key is not its kid), crypto.key.* (an unreadable PEM)
//   kPermissionDenied token.keyring.insecure_permissions (a file group/other readable)
//
// Thread-safety: all methods may be called from many threads at once (one internal mutex;
// signing itself happens outside it).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/crypto/keys.h"

namespace lunal::attest::token {

struct KeyRingOptions {
  std::filesystem::path dir = {};  // empty: keys live in memory only
  // No token may live longer than this (Sign refuses); it bounds the current key's last `exp`
  // after a restart.
  std::chrono::seconds max_token_lifetime = std::chrono::hours(24);
};

// What the ring knows about one key (no secret material).
struct KeyInfo {
  std::string kid;
  Timestamp created;
  std::optional<Timestamp> retired;   // unset for the current key
  std::optional<Timestamp> last_exp;  // the latest `exp` it signed (or the bound after Open)
  bool current = false;
};

class KeyRing {
 public:
  // Loads <dir>, or creates it with a first key made at `now` when it holds no keyring.json.
  static Result<std::unique_ptr<KeyRing>> Open(const KeyRingOptions& options, Timestamp now);

  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;
  ~KeyRing();

  // A new current key; the old one is retired at `now`. Keys whose tokens have all expired by
  // `now` are removed (from disk too).
  Status Rotate(Timestamp now);

  // {"keys": [JWK + "kid", "alg": "ES256", "use": "sig"]}: the current key first, then retired
  // keys with last_exp > now, newest first.
  Json Jwks(Timestamp now) const;

  std::string CurrentKid() const;
  std::vector<KeyInfo> Keys() const;  // current first, then retired, newest first

  // Signs `header_without_kid` + payload as a JWS with the current key. The ring adds "kid" to
  // the protected header (so the kid and the key cannot disagree after a concurrent Rotate),
  // records `exp` for the key, and returns the compact serialization.
  struct Signed {
    std::string compact;  // header.payload.signature
    std::string kid;
  };
  Result<Signed> SignCompact(Json header_without_kid, const std::string& payload, Timestamp exp,
                             Timestamp now);

 private:
  struct Key;
  explicit KeyRing(KeyRingOptions options);
  Status PersistLocked() const;
  Status AddNewKeyLocked(Timestamp now);

  KeyRingOptions options_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Key>> keys_;  // keys_[0] is current; the rest newest first
};

}  // namespace lunal::attest::token
