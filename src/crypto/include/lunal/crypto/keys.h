// Public and private keys: NIST P-256/P-384 (FIPS 186-5 §6, SP 800-186), RSA (RFC 8017),
// Ed25519 (RFC 8032) and X25519 (RFC 7748).
//
// Both classes are move-only owners of an OpenSSL key; Clone() is cheap (a reference count).
// A key is immutable after construction, so one key may be used from many threads at once.
// Using a moved-from key is a bug. Errors (Status reasons):
//   crypto.key.parse_failed (kMalformed)      DER/PEM that is not a key of any kind
//   crypto.key.unsupported_type (kUnsupported) a key of another type or curve (DSA, P-521, ...)
//   crypto.key.wrong_type (kInvalidArgument)  an operation the key's type does not have
//   crypto.ec.bad_point_length, crypto.ec.nonzero_padding (kMalformed)
//   crypto.ec.point_not_on_curve (kMalformed)
//   crypto.rsa.bad_parameters (kMalformed), crypto.rsa.key_size (kUnsupported)
//   crypto.key.bad_raw_length (kMalformed)
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::crypto {

namespace internal {
struct KeyAccess;
}  // namespace internal

enum class Curve { kP256, kP384 };
enum class KeyType { kEcP256, kEcP384, kRsa, kEd25519, kX25519 };

// 32 for P-256, 48 for P-384: the size of one coordinate, of r and of s.
std::size_t CoordinateSize(Curve curve);
// "P-256", "P-384", "RSA", "Ed25519", "X25519".
std::string_view KeyTypeName(KeyType type);

// RSA moduli outside [2048, 16384] bits are refused on import (crypto.rsa.key_size): smaller ones
// are breakable (SP 800-131A), larger ones only cost verification time.
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 16384;

class PublicKey {
 public:
  // SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), DER. Trailing bytes are refused.
  static Result<PublicKey> FromSpkiDer(ByteSpan der);
  // "-----BEGIN PUBLIC KEY-----" (SPKI).
  static Result<PublicKey> FromPem(std::string_view pem);
  // Uncompressed x‖y, big-endian, without the 0x04 prefix (SEC 1 §2.3.3): 64 bytes for P-256,
  // 96 for P-384 (the form in TDX quotes). Points not on the curve are refused.
  static Result<PublicKey> FromEcPoint(Curve curve, ByteSpan xy_big_endian);
  // Coordinates little-endian, each at least CoordinateSize(curve) bytes; bytes beyond that must
  // be zero (AMD SEV-SNP ABI §7.3 stores 72-byte zero-padded little-endian fields).
  static Result<PublicKey> FromEcPointLittleEndian(Curve curve, ByteSpan x_le, ByteSpan y_le);
  // RSA public key from big-endian modulus and exponent (RFC 8017 §3.1).
  static Result<PublicKey> FromRsaModulusExponent(ByteSpan n_big_endian, ByteSpan e_big_endian);
  // 32-byte raw keys (RFC 8032 §5.1.5, RFC 7748 §5).
  static Result<PublicKey> FromRawEd25519(ByteSpan raw);
  static Result<PublicKey> FromRawX25519(ByteSpan raw);

  PublicKey(PublicKey&& other) noexcept;
  PublicKey& operator=(PublicKey&& other) noexcept;
  PublicKey(const PublicKey&) = delete;
  PublicKey& operator=(const PublicKey&) = delete;
  ~PublicKey();

  PublicKey Clone() const;
  KeyType Type() const;
  // The size of the key in bits (256, 384, the RSA modulus size, 253/255 for Curve25519 keys).
  int Bits() const;

  Result<Bytes> ToSpkiDer() const;
  Result<std::string> ToPem() const;
  // Ed25519 / X25519 only: the 32 raw bytes.
  Result<Bytes> RawPublic() const;
  // EC only: x‖y big-endian, fixed width (2 × CoordinateSize).
  Result<Bytes> EcPoint() const;
  // RSA only: modulus and public exponent, big-endian without leading zeros (JWK "n"/"e").
  struct RsaNumbers {
    Bytes n;
    Bytes e;
  };
  Result<RsaNumbers> RsaPublicNumbers() const;

  // Same type and same key material.
  friend bool operator==(const PublicKey& a, const PublicKey& b);

 private:
  friend struct internal::KeyAccess;
  struct Impl;
  explicit PublicKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class PrivateKey {
 public:
  // A fresh key from the DRBG: kEcP256, kEcP384, kEd25519 or kX25519 (kRsa: crypto.key.wrong_type).
  static Result<PrivateKey> Generate(KeyType type);
  // "PRIVATE KEY" (PKCS#8, RFC 5208), "EC PRIVATE KEY" (RFC 5915). Encrypted PEM is refused.
  static Result<PrivateKey> FromPem(std::string_view pem);
  // 32-byte raw private keys (RFC 8032 §5.1.5 seed, RFC 7748 §5 scalar).
  static Result<PrivateKey> FromRawEd25519(ByteSpan raw);
  static Result<PrivateKey> FromRawX25519(ByteSpan raw);

  PrivateKey(PrivateKey&& other) noexcept;
  PrivateKey& operator=(PrivateKey&& other) noexcept;
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  ~PrivateKey();

  PrivateKey Clone() const;
  KeyType Type() const;
  // Unencrypted PKCS#8 PEM: secret material, the caller decides where it may go.
  Result<std::string> ToPkcs8Pem() const;
  // Ed25519 / X25519 only: the 32 raw private bytes (secret).
  Result<Bytes> RawPrivate() const;
  Result<crypto::PublicKey> PublicKey() const;

 private:
  friend struct internal::KeyAccess;
  struct Impl;
  explicit PrivateKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lunal::crypto
