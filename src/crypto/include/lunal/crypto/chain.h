// Certificate path validation (RFC 5280 §6) to a root pinned by the SHA-256 of its DER, with CRLs
// and an explicit verification time.
//
// Trust model: nothing is trusted by name or by the system store. A certificate is a trust anchor
// only when sha256(DER) equals one of `anchors`; a root with Intel's names but another key or
// encoding is just another untrusted certificate. OpenSSL's verifier (X509_STORE_CTX) does the
// path building and RFC 5280 checks, with X509_V_FLAG_X509_STRICT (unless turned off by name),
// the time fixed to `as_of`, and never X509_V_FLAG_PARTIAL_CHAIN: the path must end at a
// self-signed pinned root. After OpenSSL succeeds the top of the path is checked against the pins
// again. Unknown non-critical extensions (Intel's SGX extension 1.2.840.113741.1.13.1) are
// ignored; unknown critical ones fail.
//
// Errors (kVerificationFailed unless noted), with the failing certificate's subject and the as-of
// time in the message:
//   crypto.chain.untrusted_root       the path ends at an unpinned root, or no input is pinned
//   crypto.chain.no_path              a pinned root was given but the leaf does not chain to it
//   crypto.chain.signature_invalid    a certificate's signature does not verify
//   crypto.chain.cert_expired / crypto.chain.cert_not_yet_valid
//   crypto.chain.revoked
//   crypto.chain.crl_missing / crypto.chain.crl_expired / crypto.chain.crl_not_yet_valid
//   crypto.chain.crl_signature_invalid
//   crypto.chain.crl_no_next_update   a CRL without nextUpdate (it would never expire)
//   crypto.chain.too_long             more certificates than max_depth
//   crypto.chain.unhandled_critical_extension
//   crypto.chain.invalid_ca           an issuer that is not a CA or may not sign certificates
//   crypto.chain.invalid              any other RFC 5280 failure (OpenSSL's reason in the message)
//   crypto.chain.bad_options (kInvalidArgument)  as_of unset, max_depth < 1
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/result.h"
#include "lunal/crypto/x509.h"

namespace lunal::crypto {

struct TrustAnchor {
  std::array<std::uint8_t, 32> der_sha256;
  std::string label;  // shown in VerifiedChain::Describe(), e.g. "Intel SGX Root CA"
};

struct ChainOptions {
  // Required: every certificate and CRL must be valid at this time. The epoch (the default) is
  // refused so that a forgotten field cannot pass as "1970".
  std::chrono::sys_seconds as_of{};
  // CRLs to consult. Give only CRLs you mean to rely on: one whose signature does not verify under
  // the issuer in the path fails verification rather than being skipped.
  std::vector<Crl> crls = {};
  enum class CrlPolicy {
    kNone,                   // CRLs are not consulted at all
    kRequireForEveryIssuer,  // every certificate in the path, root included, needs a current CRL
                             // from its issuer (fail closed: crl_missing)
    kUseIfPresent,           // CRLs that are given are checked (and must be current); a
                             // certificate whose issuer has no CRL passes
  };
  CrlPolicy crl_policy = CrlPolicy::kRequireForEveryIssuer;
  // The most certificates the path may hold, leaf and root included.
  int max_depth = 5;
  // RFC 5280 strictness (X509_V_FLAG_X509_STRICT). Turn off only for issuers known to violate it
  // (AMD's VCEK has no authorityKeyIdentifier); the named option keeps that decision visible.
  bool x509_strict = true;
};

struct VerifiedChain {
  std::vector<Certificate> path;  // leaf first, pinned root last
  std::string anchor_label;
  std::array<std::uint8_t, 32> anchor_sha256{};
  // "Intel SGX Root CA (pinned) → Intel SGX PCK Platform CA → Intel SGX PCK Certificate": root
  // first, by the anchor's label, then each certificate's common name (its subject when it has no
  // common name).
  std::string Describe() const;
};

// Verifies `leaf` through `intermediates_and_roots` (any order; unrelated certificates are
// ignored) to one of `anchors`. Thread-safe; allocates a fresh OpenSSL store per call, so callers
// on hot paths cache the result by the leaf's digest.
Result<VerifiedChain> VerifyChain(const Certificate& leaf,
                                  std::span<const Certificate> intermediates_and_roots,
                                  std::span<const TrustAnchor> anchors,
                                  const ChainOptions& options);

// Parses a pin written as 64 hex digits, optionally with ':' between bytes (as `openssl x509
// -fingerprint -sha256` prints) and an optional "sha256:" prefix. Case-insensitive.
// Errors: crypto.pin.malformed (kMalformed).
Result<std::array<std::uint8_t, 32>> ParseFingerprintHex(std::string_view text);

}  // namespace lunal::crypto
