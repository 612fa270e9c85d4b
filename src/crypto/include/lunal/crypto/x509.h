// X.509 certificates and CRLs (RFC 5280), parsed once and immutable afterwards.
//
// Certificate and Crl are shared handles: copying one is a reference-count increment, and every
// copy sees the same immutable object, so they may be used from many threads at once. Views they
// return (Der(), TbsDer()) live as long as any copy of the handle.
//
// Parsing is strict about the encoding (complete DER, nothing after it; PEM blocks with nothing
// but whitespace between them) and says nothing about trust: see chain.h for that. Errors:
//   crypto.x509.parse_failed (kMalformed)        not a DER certificate, or truncated
//   crypto.x509.trailing_data (kMalformed)       bytes after the certificate's DER
//   crypto.x509.pem_garbage (kMalformed)         non-PEM text between or around blocks
//   crypto.x509.no_certificate (kMalformed)      no CERTIFICATE block at all
//   crypto.x509.expected_one_certificate (kMalformed)
//   crypto.crl.parse_failed, crypto.crl.trailing_data (kMalformed)
//   crypto.crl.issuer_mismatch, crypto.crl.signature_invalid (kVerificationFailed)
//   crypto.x509.issuer_mismatch, crypto.x509.signature_invalid (kVerificationFailed)
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/crypto/keys.h"

namespace lunal::crypto {

namespace internal {
struct X509Access;
}  // namespace internal

class Certificate {
 public:
  static Result<Certificate> FromDer(ByteSpan der);
  // Exactly one CERTIFICATE block (surrounding whitespace and a trailing NUL are tolerated).
  static Result<Certificate> FromPem(std::string_view pem);

  // The DER exactly as parsed.
  ByteSpan Der() const;
  // RFC 7468 "CERTIFICATE" PEM of Der(), 64-character lines.
  std::string ToPem() const;
  std::array<std::uint8_t, 32> Sha256OfDer() const;
  // The TBSCertificate TLV (RFC 5280 §4.1.1.1): the bytes the issuer signed.
  ByteSpan TbsDer() const;
  // The signatureValue BIT STRING contents (RFC 5280 §4.1.1.3): DER Ecdsa-Sig-Value for ECDSA,
  // the raw signature for RSA and Ed25519.
  Bytes SignatureValue() const;
  // Short name of signatureAlgorithm ("ecdsa-with-SHA256", "RSASSA-PSS", "ED25519"), or the dotted
  // OID when OpenSSL has no name for it.
  std::string SignatureAlgorithm() const;

  // RFC 2253 strings ("C=US,ST=CA,L=Santa Clara,O=Intel Corporation,CN=Intel SGX Root CA").
  std::string SubjectName() const;
  std::string IssuerName() const;
  // The (last) commonName of the subject; empty when there is none.
  std::string SubjectCommonName() const;
  // Lowercase hex of the serial number without leading zeros ("956f5dcd...").
  std::string SerialHex() const;
  std::chrono::sys_seconds NotBefore() const;
  std::chrono::sys_seconds NotAfter() const;
  // basicConstraints cA = TRUE (RFC 5280 §4.2.1.9).
  bool IsCa() const;
  // Subject and issuer names equal and the signature verifies under the certificate's own key.
  bool IsSelfSigned() const;
  Result<crypto::PublicKey> PublicKey() const;

  // The extnValue contents (the DER inside the OCTET STRING, RFC 5280 §4.1) of the extension
  // with this dotted OID ("2.5.29.19"); nullopt when absent or when the OID is not dotted.
  std::optional<Bytes> Extension(std::string_view dotted_oid) const;
  std::optional<bool> IsExtensionCritical(std::string_view dotted_oid) const;
  // Dotted OIDs of every extension, in certificate order.
  std::vector<std::string> ExtensionOids() const;

  // Whether `issuer` signed this certificate: issuer name matches and the signature verifies
  // (no validity, CA or chain checks: use VerifyChain for trust).
  Status VerifySignedBy(const Certificate& issuer) const;

  friend bool operator==(const Certificate& a, const Certificate& b);

 private:
  friend struct internal::X509Access;
  struct Impl;
  explicit Certificate(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// Every CERTIFICATE block in `pem`, in order (Intel PCK chains: leaf, intermediate, root).
// Whitespace around blocks and trailing NUL bytes are tolerated; anything else is refused.
Result<std::vector<Certificate>> ParsePemChain(std::string_view pem);

class Crl {
 public:
  static Result<Crl> FromDer(ByteSpan der);
  static Result<Crl> FromPem(std::string_view pem);
  // PEM when the input starts (after whitespace) with "-----BEGIN", else DER.
  static Result<Crl> FromDerOrPem(ByteSpan bytes);

  ByteSpan Der() const;
  // RFC 7468 "X509 CRL" PEM of Der().
  std::string ToPem() const;
  std::array<std::uint8_t, 32> Sha256OfDer() const;
  std::string IssuerName() const;
  std::chrono::sys_seconds ThisUpdate() const;
  // nullopt when the CRL has no nextUpdate (RFC 5280 §5.1.2.5 requires one; callers that
  // demand freshness should treat nullopt as expired).
  std::optional<std::chrono::sys_seconds> NextUpdate() const;
  // The cRLNumber extension (RFC 5280 §5.2.3) as lowercase hex, or nullopt.
  std::optional<std::string> CrlNumberHex() const;

  // Serials compare by value: case, leading zeros and ':' separators are ignored. A serial that
  // is not hex is never revoked.
  bool IsRevoked(std::string_view serial_hex) const;
  // Whether `cert` is listed: same issuer name and a revoked serial.
  bool IsRevoked(const Certificate& cert) const;
  // Normalized lowercase hex, sorted.
  const std::vector<std::string>& RevokedSerials() const;

  // Issuer name equals `issuer`'s subject and the signature verifies under its key.
  Status VerifySignature(const Certificate& issuer) const;

 private:
  friend struct internal::X509Access;
  struct Impl;
  explicit Crl(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace lunal::crypto
