// Builders for X.509 certificates and CRLs (RFC 5280), for tests and the simulated CA (the
// per-installation "Lunal Simulation Root CA" of DESIGN.md).
//
// Certificates are v3 with subjectKeyIdentifier (RFC 5280 §4.2.1.2, method 1) and, when issued by
// another certificate, authorityKeyIdentifier (§4.2.1.1) so that strict path validation accepts
// them. Signed with ECDSA (SHA-256 or SHA-384, chosen by `digest`) or Ed25519 (RFC 8410).
// Builders are plain values; Build* never modifies the builder. Errors:
//   crypto.builder.invalid (kInvalidArgument)   missing or inconsistent fields
//   crypto.key.wrong_type (kInvalidArgument)    a signing key that is not EC or Ed25519
//   crypto.builder.failed (kInternal)           OpenSSL refused an encoding
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/keys.h"
#include "lunal/crypto/x509.h"

namespace lunal::crypto {

// keyUsage bits (RFC 5280 §4.2.1.3).
enum KeyUsage : std::uint32_t {
  kKeyUsageDigitalSignature = 1u << 0,
  kKeyUsageKeyEncipherment = 1u << 2,
  kKeyUsageKeyAgreement = 1u << 4,
  kKeyUsageKeyCertSign = 1u << 5,
  kKeyUsageCrlSign = 1u << 6,
};

class CertificateBuilder {
 public:
  CertificateBuilder();
  CertificateBuilder(const CertificateBuilder& other);
  CertificateBuilder& operator=(const CertificateBuilder& other);
  CertificateBuilder(CertificateBuilder&&) noexcept;
  CertificateBuilder& operator=(CertificateBuilder&&) noexcept;
  ~CertificateBuilder();

  // Subject attributes in encoding order, by OpenSSL short name ("CN", "O", "L", "ST", "C",
  // "OU"). SubjectCommonName/SubjectOrganization append.
  CertificateBuilder& AddSubjectAttribute(std::string short_name, std::string value);
  CertificateBuilder& SubjectCommonName(std::string cn);
  CertificateBuilder& SubjectOrganization(std::string o);
  // Big-endian positive serial; default: 16 random bytes with the top bit clear.
  CertificateBuilder& Serial(Bytes serial_big_endian);
  CertificateBuilder& Validity(std::chrono::sys_seconds not_before,
                               std::chrono::sys_seconds not_after);
  // The subject's key. Not needed for self-signed certificates (the signing key's public half).
  CertificateBuilder& SubjectKey(const PublicKey& key);
  // basicConstraints, critical. path_length < 0: no pathLenConstraint. Defaults to an end entity
  // (cA FALSE).
  CertificateBuilder& Ca(bool is_ca, int path_length = -1);
  // keyUsage, critical. Default: keyCertSign|cRLSign for CAs, digitalSignature otherwise.
  CertificateBuilder& KeyUsageBits(std::uint32_t bits);
  // extendedKeyUsage (non-critical) with these dotted OIDs.
  CertificateBuilder& ExtendedKeyUsage(std::vector<std::string> dotted_oids);
  CertificateBuilder& AddSanUri(std::string uri);
  CertificateBuilder& AddSanDns(std::string dns_name);
  // Any extension: `der_value` is the extnValue contents (the DER inside the OCTET STRING).
  CertificateBuilder& AddExtension(std::string dotted_oid, Bytes der_value, bool critical);
  // ECDSA digest; ignored for Ed25519. Default SHA-256.
  CertificateBuilder& Digest(DigestAlgorithm digest);

  Result<Certificate> SelfSign(const PrivateKey& key) const;
  Result<Certificate> SignWith(const Certificate& issuer, const PrivateKey& issuer_key) const;

 private:
  struct CustomExtension {
    std::string oid;
    Bytes value;
    bool critical;
  };
  Result<Certificate> Build(const Certificate* issuer, const PrivateKey& signer) const;

  std::vector<std::pair<std::string, std::string>> subject_;
  std::optional<Bytes> serial_;
  std::chrono::sys_seconds not_before_;
  std::chrono::sys_seconds not_after_;
  std::optional<PublicKey> subject_key_;
  bool is_ca_ = false;
  int path_length_ = -1;
  std::optional<std::uint32_t> key_usage_;
  std::vector<std::string> extended_key_usage_;
  std::vector<std::string> san_uris_;
  std::vector<std::string> san_dns_;
  std::vector<CustomExtension> extensions_;
  DigestAlgorithm digest_ = DigestAlgorithm::kSha256;
};

class CrlBuilder {
 public:
  CrlBuilder& Updates(std::chrono::sys_seconds this_update,
                      std::optional<std::chrono::sys_seconds> next_update);
  // Serial as hex (as Certificate::SerialHex prints it), revoked at `when`.
  CrlBuilder& Revoke(std::string serial_hex, std::chrono::sys_seconds when);
  CrlBuilder& CrlNumber(std::uint64_t number);
  CrlBuilder& Digest(DigestAlgorithm digest);

  // A v2 CRL with authorityKeyIdentifier and cRLNumber (RFC 5280 §5.2.1, §5.2.3).
  Result<Crl> Sign(const Certificate& issuer, const PrivateKey& issuer_key) const;

 private:
  std::chrono::sys_seconds this_update_;
  std::optional<std::chrono::sys_seconds> next_update_;
  std::vector<std::pair<std::string, std::chrono::sys_seconds>> revoked_;
  std::uint64_t crl_number_ = 1;
  DigestAlgorithm digest_ = DigestAlgorithm::kSha256;
};

}  // namespace lunal::crypto
