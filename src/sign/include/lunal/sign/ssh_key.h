// OpenSSH public keys: the wire blob (RFC 4253 §6.6), the one-line text form of `*.pub` files and
// allowed_signers entries, and the key id `ssh-keygen -l` prints.
//
// Accepted key types (anything else: sign.key.unsupported_type, kUnsupported):
//   ssh-ed25519           string "ssh-ed25519", string key (32 bytes)          RFC 8709 §4
//   ecdsa-sha2-nistp256   string name, string "nistp256", string Q (SEC 1)     RFC 5656 §3.1
//   ecdsa-sha2-nistp384   string name, string "nistp384", string Q (SEC 1)     RFC 5656 §3.1
//   ssh-rsa               string "ssh-rsa", mpint e, mpint n                   RFC 4253 §6.6
// ECDSA points must be uncompressed (0x04 ‖ x ‖ y) and on the curve; RSA moduli must be 2048 to
// 16384 bits (lunal::crypto's import limits). Certificates (*-cert-v01@openssh.com) and security
// keys (sk-*) are unsupported.
//
// Errors (stable reasons): sign.key.unsupported_type (kUnsupported), sign.key.curve_mismatch,
// sign.key.bad_point, sign.key.trailing_bytes, sign.key.<field>.truncated,
// sign.key.bad_base64, sign.key.type_mismatch, sign.key.missing (kMalformed); crypto.* from the
// key import (crypto.rsa.key_size, crypto.ec.point_not_on_curve, ...).
//
// SshPublicKey is an immutable value; share it between threads freely.
#pragma once

#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/crypto/keys.h"

namespace lunal::sign {

enum class SshKeyType { kEd25519, kEcdsaP256, kEcdsaP384, kRsa };

// The key type name on the wire and in files: "ssh-ed25519", "ecdsa-sha2-nistp256", ...
std::string_view SshKeyTypeName(SshKeyType type);

// `ssh-keygen -l` form of a key: "256 SHA256:<base64, no padding> (ED25519)".
struct KeyId {
  std::string fingerprint;  // "SHA256:" + unpadded base64 of SHA-256(blob)
  int bits = 0;             // 256 / 384 for Ed25519 and ECDSA, the modulus size for RSA
  std::string type;         // "ED25519", "ECDSA", "RSA"
  // "<bits> <fingerprint> (<type>)"; ssh-keygen prints the key's comment before the type.
  std::string ToString() const;
};

class SshPublicKey {
 public:
  // Parses a wire blob (RFC 4253 §6.6); the whole span must be one key.
  static Result<SshPublicKey> FromBlob(ByteSpan blob);
  // "<type> <base64 blob> [comment]", as in id_ed25519.pub. The type must match the blob's.
  static Result<SshPublicKey> FromOpenSshLine(std::string_view line);

  SshPublicKey(SshPublicKey&&) noexcept = default;
  SshPublicKey& operator=(SshPublicKey&&) noexcept = default;
  SshPublicKey(const SshPublicKey& other)
      : type_(other.type_), blob_(other.blob_), key_(other.key_.Clone()) {}
  SshPublicKey& operator=(const SshPublicKey& other) {
    if (this != &other) *this = SshPublicKey(other);
    return *this;
  }

  SshKeyType type() const { return type_; }
  // The canonical wire encoding; two keys are the same key exactly when their blobs are equal.
  const Bytes& blob() const { return blob_; }
  const crypto::PublicKey& key() const { return key_; }
  KeyId Id() const;

  friend bool operator==(const SshPublicKey& a, const SshPublicKey& b) {
    return a.blob_ == b.blob_;
  }

 private:
  SshPublicKey(SshKeyType type, Bytes blob, crypto::PublicKey key)
      : type_(type), blob_(std::move(blob)), key_(std::move(key)) {}
  SshKeyType type_;
  Bytes blob_;
  crypto::PublicKey key_;
};

}  // namespace lunal::sign
